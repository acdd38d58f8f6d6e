"""Matching runs: a coordinator's batch job over the pure engine (``aidmatch.engine``).

``scope`` (what a run covers), ``loading`` (open needs and offers as plain records),
``job`` (start, propose, finish, with progress on the ``MatchingRun`` row of ``models``),
``storing`` (proposals reserved as engine matches), ``queries``; the /matching pages
(``views``), the /api/v1/matching/runs routes (``api``) and ``flask match run`` (``cli``).
"""
