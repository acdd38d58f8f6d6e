"""Instant candidates: the pure engine (``aidmatch.engine``) answering at once, for one need
or one offer, which offers could cover it or which needs it could cover.

``inputs`` (the category tree, score weights and pairs never proposed again, which runs
read too), ``queries`` (the SQL of plausible rows), ``ranking`` (the ranked lists as the
viewer may see them), ``proposals`` (engine proposals awaiting the donor), ``explain``
(explanations in words); the lists on need and offer pages (``views``) and
/api/v1/needs/<id>/candidates, /api/v1/offers/<id>/candidates (``api``).
"""
