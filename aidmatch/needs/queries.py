"""Finding needs as a given user may see them (pages, API, map and CSV all use these)."""

from __future__ import annotations

from functools import partial

from aidmatch.needs.kind import NEED
from aidmatch.postings.queries import find_visible, kind_select, list_page

needs_query = partial(kind_select, NEED)  # needs_query(viewer, filters): the select
list_needs = partial(list_page, NEED)  # list_needs(viewer, filters): one page
get_visible_need = partial(find_visible, NEED)  # (viewer, need_id): the need, or a 404 refusal
