"""The posting kit: what needs and offers share, written once and generic over a Kind.

kind (the descriptor: what a need or an offer is to the kit), models (the shared columns,
table args, and the status as the date makes it), validate (the fields' rules), operations
(post once, edit, end, expire, audit; verbs_for binds them to a kind), queries (who sees
which rows, filters, pages; queries_for), forms and sending (the pages' forms), pages (the
HTML routes), history (audit trail and matches of one), api (the API routes, permission
before the body). `needs/` and `offers/` keep only what differs: their fields, rules, words,
order and detail pages.
"""
