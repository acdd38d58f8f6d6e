"""A notification in words: the recipient's language, the category, the quantity, the place
as far as params name it, and the link; the same words on every channel."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from aidmatch.categories.models import Category
from aidmatch.db import is_id
from aidmatch.extensions import db
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.models import Notification
from aidmatch.orgs.lifecycle import state_label
from aidmatch.places.labels import oblast_label, place_label
from aidmatch.places.models import Place
from aidmatch.web.i18n import local_number
from aidmatch.web.labels import unit_label

# Where each kind's link leads: an endpoint, the id it takes from the notification, and any
# fixed query values.
LINKS = {
    "match": ("matches.detail", "match_id", "match_id"),
    "need": ("needs.detail", "need_id", "need_id"),
    "need_money": ("money.need_page", "need_id", "need_id"),
    "offer": ("offers.detail", "offer_id", "offer_id"),
    "organization": ("orgs.detail", "org_id", "organization_id"),
    "matches": ("matches.index", None, None),
    "needs": ("needs.index", None, None),
    "my_needs": ("needs.index", None, None, {"mine": "y"}),
    "review": ("review.index", None, None),
    "notifications": ("notify.inbox", None, None),
    "reported_messages": ("conversations.reported", None, None),
}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    url: str | None  # absolute (PUBLIC_URL): e-mail and Telegram have no request
    path: str | None  # the same link within the site (the inbox)
    buttons: tuple[str, ...]


def what(params: dict) -> str:
    """ "5 pcs of Generators" in the current language, from the ids params hold."""
    category = db.session.get(Category, params["category_id"]) if "category_id" in params else None
    name = category.name(_language()) if category else _("aid")
    if "quantity" not in params:
        return name
    return _(
        "%(quantity)s %(unit)s of %(category)s",
        quantity=local_number(params["quantity"]),
        unit=unit_label(params.get("unit") or (category.unit if category else "pcs")),
        category=name,
    )


def named_rows(params_list: list[dict]) -> list:
    """The categories and places these notifications' params name (what() and where() read),
    loaded in one query each, whatever the number of notifications: the session finds them
    there after. The caller holds the list while it renders (the session keeps no loaded
    row alive by itself)."""
    category_ids = {p["category_id"] for p in params_list if is_id(p.get("category_id"))}
    place_ids = {
        p["place_id"]
        for p in params_list
        if p.get("place_level") == "settlement" and is_id(p.get("place_id"))
    }
    rows: list = []
    if category_ids:
        rows += db.session.scalars(select(Category).where(Category.id.in_(category_ids))).all()
    if place_ids:
        rows += db.session.scalars(select(Place).where(Place.id.in_(place_ids))).all()
    return rows


def where(params: dict) -> str:
    """The settlement and its oblast, or only the oblast, as params say the recipient may
    see; never finer."""
    if params.get("place_id") and params.get("place_level") == "settlement":
        place = db.session.get(Place, params["place_id"])
        if place is not None:
            return place_label(place)
    if params.get("oblast"):
        return oblast_label(params["oblast"])
    return _("Ukraine")


def _language() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "en")


def link(note: Notification, external: bool) -> str | None:
    """The path (or the absolute URL) of what the notification is about."""
    target = LINKS.get(KINDS[note.kind].link or "")
    if target is None:
        return None
    endpoint, arg, attr, *fixed = target
    values = dict(*fixed)
    if arg:
        value = getattr(note, attr)
        if value is None:
            return None
        values[arg] = value
    if external or not has_request_context():
        path = current_app.url_map.bind("localhost").build(endpoint, values)
        return current_app.config["PUBLIC_URL"] + path if external else path
    return url_for(endpoint, **values)


def render(note: Notification, language: str) -> Message:
    """The notification's words in this language."""
    spec = KINDS[note.kind]
    params = note.params
    with force_locale(language):
        words = {
            "what": what(params),
            "place": where(params),
            "reason": params.get("reason") or "",
            "count": local_number(params.get("count", 0)),
            "organizations": local_number(params.get("organizations", 0)),
            "expiring": local_number(params.get("expiring", 0)),
            "organization": params.get("organization") or _("A coordinator"),
            "body": params.get("body") or "",
            "vouchers": ", ".join(params.get("vouchers") or ()),
            "state": state_label(params["state"]) if params.get("state") else "",
            "received": local_number(params.get("received", 0)),
            "minutes": local_number(current_app.config["PASSWORD_RESET_TTL_MINUTES"]),
        }
        text = str(spec.text) % words
        if params.get("asked"):
            # An answer lowered the quantity: say from how much, and the typed reason.
            asked = local_number(params["asked"])
            if "%(reason)s" not in str(spec.text) and words["reason"]:
                text += " " + _("Less than the %(asked)s asked: %(reason)s", asked=asked,
                                reason=words["reason"])  # fmt: skip
            else:
                text += " " + _("Less than the %(asked)s asked.", asked=asked)
        subject = str(spec.label)
    return Message(
        subject=subject,
        text=" ".join(text.split()),
        url=link(note, external=True),
        path=link(note, external=False),
        buttons=spec.buttons,
    )
