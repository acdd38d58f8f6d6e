"""The posting kit: what needs and offers share, written once and generic over a Kind.

models (the shared columns and the status as the date makes it), validate (the fields'
rules), operations (post once, edit, end, expire, audit), queries (who sees which rows,
filters, pages), forms and sending (the pages' forms), pages (page helpers and history),
api (the API's permission checks), csv_export (the CSV side). `needs/` and `offers/` keep
only what differs: their fields, words and routes.
"""
