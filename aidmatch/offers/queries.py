"""Finding offers as a given user may see them (pages, API, map and CSV all use these)."""

from __future__ import annotations

from functools import partial

from aidmatch.offers.kind import OFFER
from aidmatch.postings.queries import find_visible, kind_select, list_page

offers_query = partial(kind_select, OFFER)  # offers_query(viewer, filters): the select
list_offers = partial(list_page, OFFER)  # list_offers(viewer, filters): one page
get_visible_offer = partial(find_visible, OFFER)  # (viewer, offer_id): the offer, or a 404
