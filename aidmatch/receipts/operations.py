"""Verbs of receipts: make a match's receipt link, find a link by its token, sign a receipt
through it (the match's confirm-delivery verb, with the link as its authority: the lifecycle
table's row confirm_by_receipt), and dispute a signed receipt within DISPUTE_HOURS. They
flush and audit; they never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from aidmatch.audit.operations import record
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.legs.operations import receive_by_receipt
from aidmatch.matches import lifecycle, notices
from aidmatch.matches.lifecycle import Tell
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.transitions import confirm_delivery
from aidmatch.photos.models import PhotoPurpose
from aidmatch.photos.operations import add_photo
from aidmatch.privacy import viewer_for
from aidmatch.receipts.links import digest, looks_like_token, new_nonce, token_of
from aidmatch.receipts.models import Condition, Receipt, ReceiptLink
from aidmatch.refusals import Conflict, Invalid, NotAllowed, NotFound

# A slip (and its link) is made for a match on its way: confirmed or shipped.
OPEN = (MatchStatus.CONFIRMED, MatchStatus.SHIPPED)
DISPUTE_HOURS = 72
MAX_PHOTOS = 3
NAME_MAX = 200
NOTE_MAX = 2000


@dataclass(frozen=True)
class Signer:
    """Whoever signs through a receipt link: no account, only the link's match and a name.
    The lifecycle table's side "receipt" recognises it (receipt_match_id)."""

    receipt_match_id: int
    name: str
    id = None
    is_authenticated = False
    organization_id = None
    organization = None
    role = None


def link_days() -> int:
    """How long a receipt link lives at most (RECEIPT_LINK_DAYS); it dies earlier with the
    match (when it is neither confirmed nor shipped any more)."""
    return int(current_app.config.get("RECEIPT_LINK_DAYS", 60))


def link_of(match: Match) -> ReceiptLink | None:
    """The match's receipt link, if its slip was made."""
    return db.session.scalar(select(ReceiptLink).where(ReceiptLink.match_id == match.id))


def make_link(match: Match, actor) -> ReceiptLink:
    """Make the match's slip and receipt link (once: the same link afterwards). A side of the
    match or a coordinator, while the match is confirmed or shipped."""
    if not viewer_for(actor).sees_photos(match):
        raise NotFound(_("Not found"))
    existing = link_of(match)
    if existing is not None:
        return existing
    if match.status not in OPEN:
        raise Conflict(_("A delivery slip is made only for a confirmed or shipped match."))
    nonce = new_nonce()
    now = utcnow()
    link = ReceiptLink(
        match_id=match.id,
        nonce=nonce,
        token_hash=digest(token_of(nonce)),
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=link_days()),
    )
    db.session.add(link)
    db.session.flush()
    record(actor, "receipt.link", match, after={"expires_at": link.expires_at})
    return link


def link_token(link: ReceiptLink) -> str:
    """The token of this link (for the slip's QR code and the side that printed it)."""
    return token_of(link.nonce)


def find_link(token: str) -> ReceiptLink | None:
    """The link this token opens, used or not; None for a token no link has."""
    if not looks_like_token(token):
        return None
    return db.session.scalar(select(ReceiptLink).where(ReceiptLink.token_hash == digest(token)))


def link_open(link: ReceiptLink, match: Match, now: datetime) -> bool:
    """The link may still sign: unused, not past its time, its match confirmed or shipped."""
    return link.used_at is None and link.expires_at > now and match.status_at(now) in OPEN


def receipt_of(match_id: int) -> Receipt | None:
    """The receipt signed for this match, if any."""
    return db.session.scalar(select(Receipt).where(Receipt.match_id == match_id))


def receipt_by_key(form_key: str) -> Receipt | None:
    """The receipt a form with this key stored already (the same form sent again)."""
    return db.session.scalar(select(Receipt).where(Receipt.form_key == form_key))


def check_receipt(match: Match, data: dict) -> dict:
    """What the receipt form says, cleaned; Invalid naming the first bad field."""
    try:
        condition = Condition(data.get("condition") or "")
    except ValueError:
        raise Invalid(_("Choose what arrived: all of it, less, or damaged."), "condition") from None
    raw = str(data.get("quantity_received") or "").strip()
    if condition == Condition.FULL and not raw:
        raw = str(match.quantity)
    try:
        quantity = int(raw)
    except ValueError:
        raise Invalid(_("Enter a whole number, like 10."), "quantity_received") from None
    if quantity < 0 or quantity > match.quantity:
        raise Invalid(_("Enter a number from 0 to %(n)s.", n=match.quantity), "quantity_received")
    if condition == Condition.FULL and quantity != match.quantity:
        raise Invalid(
            _("“All of it” is %(n)s; choose “less” for fewer.", n=match.quantity),
            "quantity_received",
        )
    if condition == Condition.LESS and quantity == match.quantity:
        raise Invalid(
            _("“Less” is fewer than %(n)s; choose “all of it” otherwise.", n=match.quantity),
            "quantity_received",
        )
    name = " ".join(str(data.get("signer_name") or "").split())
    if not name:
        raise Invalid(_("Sign with your name."), "signer_name")
    if len(name) > NAME_MAX:
        raise Invalid(_("A name has at most %(n)s characters.", n=NAME_MAX), "signer_name")
    note = str(data.get("note") or "").strip()
    if len(note) > NOTE_MAX:
        raise Invalid(_("A note has at most %(n)s characters.", n=NOTE_MAX), "note")
    photos = [p for p in data.get("photos") or [] if p]
    if len(photos) > MAX_PHOTOS:
        raise Invalid(_("At most %(n)s photos.", n=MAX_PHOTOS), "photos")
    return {
        "condition": condition,
        "quantity": quantity,
        "name": name,
        "note": note,
        "photos": photos,
    }


def sign(link: ReceiptLink, match: Match, data: dict, form_key: str) -> Receipt:
    """Sign the receipt through this link: the match is delivered through its
    confirm-delivery verb (row confirm_by_receipt), the link is used up, the photos kept
    without metadata, the group told at once. The same form_key (the form's one-time token)
    again returns the receipt it stored, and changes nothing."""
    stored = receipt_by_key(form_key)
    if stored is not None:
        return stored
    now = utcnow()
    if not link_open(link, match, now):
        raise Conflict(_("This receipt link can no longer be used."), code="gone")
    clean = check_receipt(match, data)
    used = db.session.execute(
        update(ReceiptLink)
        .where(ReceiptLink.id == link.id, ReceiptLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:
        # The same sending, taken meanwhile by a request that ran beside this one (a phone's
        # outbox and a double tap): answer with what it stored. Any other: the link is used.
        stored = receipt_by_key(form_key)
        if stored is not None and stored.match_id == match.id:
            return stored
        raise Conflict(_("This receipt link can no longer be used."), code="gone")
    signer = Signer(receipt_match_id=match.id, name=clean["name"])
    receive_by_receipt(match, clean["quantity"], clean["note"])  # through hubs: the last leg
    confirm_delivery(
        match, signer, clean["quantity"], clean["note"], via="confirm_by_receipt", key=form_key
    )
    receipt = Receipt(
        match_id=match.id,
        link_id=link.id,
        quantity_received=clean["quantity"],
        condition=clean["condition"],
        note=clean["note"] or None,
        signer_name=clean["name"],
        form_key=form_key,
        signed_at=now,
    )
    db.session.add(receipt)
    db.session.flush()
    purpose = (
        PhotoPurpose.DAMAGE if clean["condition"] == Condition.DAMAGED else PhotoPurpose.DELIVERY
    )
    for raw in clean["photos"]:
        add_photo(match, raw, purpose, signer=clean["name"])
    record(
        None,
        "receipt.sign",
        receipt,
        after={
            "signer_name": clean["name"],
            "quantity_received": clean["quantity"],
            "condition": clean["condition"],
            "photos": len(clean["photos"]),
        },
    )
    return receipt


def disputed_receipts(limit: int = 200) -> list[tuple[Receipt, Match]]:
    """The disputed receipts with their matches, newest dispute first (the coordinators'
    page: the match then goes to them)."""
    from sqlalchemy.orm import joinedload

    from aidmatch.needs.models import Need

    rows = db.session.execute(
        select(Receipt, Match)
        .join(Match, Match.id == Receipt.match_id)
        .where(Receipt.disputed_at.is_not(None))
        .options(
            joinedload(Match.need).joinedload(Need.organization),
            joinedload(Match.organization),
        )
        .order_by(Receipt.disputed_at.desc(), Receipt.id.desc())
        .limit(limit)
    ).all()
    return [(receipt, match) for receipt, match in rows]


def disputes_since(since: datetime) -> int:
    """How many receipts were disputed since then (a coordinator's home page)."""
    from sqlalchemy import func

    return db.session.scalar(select(func.count(Receipt.id)).where(Receipt.disputed_at >= since))


def dispute_until(receipt: Receipt) -> datetime:
    """Until when the group may dispute this receipt."""
    return receipt.signed_at + timedelta(hours=DISPUTE_HOURS)


def may_dispute(user, match: Match, receipt: Receipt | None, now: datetime) -> bool:
    """The group's member may still dispute this receipt (signed through the link, not
    disputed yet, within DISPUTE_HOURS)."""
    return (
        receipt is not None
        and receipt.disputed_at is None
        and now < dispute_until(receipt)
        and lifecycle.SIDES["group"](user, match)
    )


def dispute(match: Match, receipt: Receipt, actor, reason: str) -> Receipt:
    """The group disputes a receipt signed through the link: it is marked, audited, and the
    coordinators are told (the kind receipt_disputed, in their inbox and by e-mail)."""
    now = utcnow()
    if not lifecycle.SIDES["group"](actor, match):
        raise NotAllowed(_("Only the group that posted the need may dispute its receipt."))
    if receipt.disputed_at is not None:
        raise Conflict(_("This receipt is already disputed."))
    if now >= dispute_until(receipt):
        raise Conflict(
            _("A receipt may be disputed within %(n)s hours of its signing.", n=DISPUTE_HOURS)
        )
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Say what is wrong with the receipt."), "reason")
    if len(reason) > NOTE_MAX:
        raise Invalid(_("A reason has at most %(n)s characters.", n=NOTE_MAX), "reason")
    changed = db.session.execute(
        update(Receipt)
        .where(Receipt.id == receipt.id, Receipt.disputed_at.is_(None))
        .values(disputed_at=now, disputed_by_id=actor.id, dispute_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(receipt)
    if changed != 1:
        raise Conflict(_("This receipt is already disputed."))
    record(actor, "receipt.dispute", match, after={"reason": reason})
    notices.tell_sides([match], (Tell("reviewer", "receipt_disputed"),), actor, reason=reason)
    return receipt
