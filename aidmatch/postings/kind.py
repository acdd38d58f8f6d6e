"""What the posting kit needs to know about a kind of posting (need or offer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


def _same(stmt, *args):
    return stmt


@dataclass(frozen=True)
class Kind:
    """A need or an offer, as the kit's generic verbs, queries, pages and API see it.

    The words are the domain's own (msgids for the translators live in needs/ and offers/);
    each is a callable, so it is translated at the time it is said.
    """

    name: str  # "need", "offer": audit actions, endpoints, form draft ids, the id argument
    model: type
    held: str  # the counter its matches hold: "pledged" or "allocated"
    audited: tuple[str, ...]  # fields the audit trail records
    editable: tuple[str, ...]  # data keys an edit may change
    end_status: str  # what ending makes it: cancelled, withdrawn
    end_verb: str  # the audit action's verb and the route: cancel, withdraw
    end_from: tuple[str, ...]  # the statuses from which it may end
    # Validate the kind's own fields: clean_own(errors, data, given, current, today) -> dict.
    clean_own: Callable
    may_post: Callable  # may this organization post one?
    to_dict: Callable  # the serializer: to_dict(obj, viewer, near=, exact=)
    status_labels: dict
    # Columns derived from cleaned values (a need's urgency rank): derive(values) -> dict.
    derive: Callable[[dict], dict] = lambda values: {}
    # The list query's own filters and order: narrow(stmt, filters), order(stmt, filters, near).
    narrow: Callable = _same
    order: Callable = _same
    words: dict[str, Callable] = field(default_factory=dict)
    sensitive: bool = False  # does it have a `sensitive` column (listed to verified only)
    # Spreadsheets (postings/sheet_rows.py): the kind's own columns an import reads (and an
    # export writes), and the counters an export adds after the quantity.
    sheet_columns: tuple[str, ...] = ()
    counter_columns: tuple[str, ...] = ()
    # HXL exports (postings/hxl.py): the kind's own columns and their hashtags.
    hxl_columns: tuple[tuple[str, str], ...] = ()

    @property
    def plural(self) -> str:
        """needs, offers: the blueprints, URLs, tables and template folders."""
        return f"{self.name}s"

    @property
    def id_arg(self) -> str:
        """need_id, offer_id: the URL argument naming one."""
        return f"{self.name}_id"

    def say(self, key: str, **values) -> str:
        """The kind's words for one occasion, in the request's language."""
        return self.words[key](**values)
