"""Money for needs whose goods are best bought near the front (DESIGN: MoneyPledge,
Fundraiser). aidmatch never holds, moves or processes money: it records promises (pledges and
their monthly installments), receipts (the group's confirmation of each amount) and results
(what the money bought), and a collective's public fundraiser page."""
