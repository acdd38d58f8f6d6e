"""Enum values in words of the request's language, and that language: every domain imports
these (units, urgencies, need/offer/match statuses; oblasts are in places.labels, the category
menu in categories.menu).

The maps are keyed by the enums' string values (a StrEnum member equals and hashes as its
value), so this module imports no domain model.
"""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

UNIT_LABELS = {"pcs": _l("pcs"), "kg": _l("kg"), "l": _l("l"), "EUR": _l("EUR")}
URGENCY_LABELS = {
    "critical": _l("critical"), "high": _l("high"), "normal": _l("normal"), "low": _l("low"),
}  # fmt: skip
NEED_STATUS_LABELS = {
    "open": _l("open"), "fulfilled": _l("fulfilled"), "cancelled": _l("cancelled"),
    "expired": _l("expired"),
}  # fmt: skip
OFFER_STATUS_LABELS = {
    "open": _l("open"), "exhausted": _l("exhausted"), "withdrawn": _l("withdrawn"),
    "expired": _l("expired"),
}  # fmt: skip
# A match's statuses: the active ones, then those that ended it.
MATCH_STATUS_LABELS = {
    "pending": _l("pending"), "confirmed": _l("confirmed"), "shipped": _l("shipped"),
    "delivered": _l("delivered"),
    "declined": _l("declined"), "rejected": _l("rejected"), "expired": _l("expired"),
    "withdrawn": _l("withdrawn"), "cancelled": _l("cancelled"),
}  # fmt: skip
# A user's role (permissions.Role), as admins read it (/admin/users).
ROLE_LABELS = {
    "organizer": _l("organizer"), "donor": _l("donor"), "coordinator": _l("coordinator"),
    "admin": _l("admin"),
}  # fmt: skip
# Where a match comes from (matches.models.MatchSource), in a word or two.
MATCH_SOURCE_LABELS = {
    "engine": _l("engine"), "claim": _l("claim"), "request": _l("group's request"),
}  # fmt: skip

# How an offer's category fits a need's (the engine's explanation facts, category_fit): a
# general offer ("Food" for "Baby food") may not hold what is needed, and says so.
CATEGORY_FIT_LABELS = {
    "same": _l("same category"),
    "general": _l("general offer: check it contains what is needed"),
}


def language() -> str:
    """The language of this request (uk, en or de), for names stored in three languages."""
    return str(get_locale() or "en")


def label_of(labels: dict, value) -> str:
    """A status (or other enum value) in words, from one of the label maps here."""
    label = labels.get(str(value)) if value is not None else None
    return str(value) if label is None else str(label)


def unit_label(unit) -> str:
    """A unit of quantity in words of the user's language (pcs, kg, l, EUR)."""
    return label_of(UNIT_LABELS, unit)


def role_label(role) -> str:
    """A user's role in the user's language."""
    return label_of(ROLE_LABELS, role)


def urgency_label(urgency) -> str:
    """An urgency in the user's language."""
    return label_of(URGENCY_LABELS, urgency)


def category_fit_label(fit) -> str:
    """How an offer's category fits the need's, in words ("same category", "general offer:
    check it contains what is needed")."""
    return label_of(CATEGORY_FIT_LABELS, fit)


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as <option>s."""
    return [SelectChoice(value, label) for value, label in pairs]
