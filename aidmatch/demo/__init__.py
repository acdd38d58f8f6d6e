"""flask seed-demo: a deterministic, realistic demo data set, created once.

About 30 frontline groups in the oblasts along the front, 20 donor and supply collectives in
Ukraine and abroad, two hubs, one member each, a coordinator and an admin, ~300 needs and ~150 offers.
Everything is drawn from random.Random(SEED) in a fixed order, so every run on an empty
database makes the same set (dates are relative to today).

- data.py: the fixed material (organizations, towns, what they ask for and give);
- drawing.py: what one organization posts, drawn from the seeded random generator;
- seeding.py: seed_demo(), which checks the database, creates organizations and users
  through their operations, and needs and offers through create_need and create_offer;
- deliveries.py: a few matches delivered through the verbs and dated weeks back, so the
  transparency page shows something;
- field.py: what was merged later, shown through its verbs: a shipment through the two hubs
  (legs), a monthly offer, a vouched group; funds.py: a priced need with a monthly money
  pledge, a month received and spent, and a fundraiser;
- cli.py: the `flask seed-demo` command (and matching run once).
"""
