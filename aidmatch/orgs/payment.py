"""A group's payment details (DESIGN: MoneyPledge): an IBAN (its mod-97 checksum), a card
number (the Luhn check) and a payment link (https only), each optional but one at least; the
verb that stores them. Who sees them is the privacy policy's (sees_payment_details)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select

from aidmatch.audit.operations import record
from aidmatch.extensions import db
from aidmatch.orgs.models import Organization, OrgKind, PaymentDetails
from aidmatch.permissions import can_set_payment_details
from aidmatch.refusals import Invalid, NotAllowed
from aidmatch.transaction import add_unless_taken
from aidmatch.web.text import text_problem

IBAN_LENGTHS = {"UA": 29, "PL": 28, "DE": 22, "LT": 20, "LV": 21, "EE": 20, "CZ": 24, "SK": 24}
LINK_MAX, HOLDER_MAX = 500, 200


def clean_iban(value: str) -> str:
    """The IBAN without spaces, upper-cased; Invalid unless its checksum holds."""
    iban = re.sub(r"[\s-]", "", value or "").upper()
    if not iban:
        return ""
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}", iban):
        raise Invalid(
            _("An IBAN starts with a country code and two digits, e.g. UA21 3223…"), "iban"
        )
    length = IBAN_LENGTHS.get(iban[:2])
    if length is not None and len(iban) != length:
        raise Invalid(
            _(
                "An IBAN of this country has %(n)d characters; this one has %(m)d.",
                n=length,
                m=len(iban),
            ),
            "iban",
        )
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        raise Invalid(
            _("This IBAN's check digits do not match: please check it for a typo."), "iban"
        )
    return iban


def clean_card(value: str) -> str:
    """The card number's digits; Invalid unless 12 to 19 digits that pass the Luhn check."""
    card = re.sub(r"[\s-]", "", value or "")
    if not card:
        return ""
    if not card.isdigit() or not 12 <= len(card) <= 19:
        raise Invalid(_("A card number has 12 to 19 digits."), "card")
    total = 0
    for i, ch in enumerate(reversed(card)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    if total % 10:
        raise Invalid(
            _("This card number does not pass its check: please check it for a typo."), "card"
        )
    return card


def clean_link(value: str) -> str:
    """A payment link: an https address with a host; Invalid otherwise."""
    link = (value or "").strip()
    if not link:
        return ""
    problem = text_problem(link)
    if problem:
        raise Invalid(problem, "link")
    if len(link) > LINK_MAX:
        raise Invalid(_("At most %(max)d characters, please.", max=LINK_MAX), "link")
    parts = urlsplit(link)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in link):
        raise Invalid(_("A payment link starts with https:// and names a site."), "link")
    return link


def payment_details_of(org_id: int | None) -> PaymentDetails | None:
    """The organization's payment details, if it gave any."""
    if org_id is None:
        return None
    return db.session.scalar(select(PaymentDetails).where(PaymentDetails.organization_id == org_id))


def set_payment_details(
    org: Organization, actor, iban: str = "", card: str = "", link: str = "", holder: str = ""
) -> PaymentDetails:
    """Store (or replace) a frontline group's payment details, each checked; at least one.
    Every problem is named on its field at once."""
    if not can_set_payment_details(actor, org):
        raise NotAllowed(_("Only the group's owners may change its payment details."))
    if org.kind != OrgKind.FRONTLINE_GROUP:
        raise Invalid(_("Only frontline groups take money pledges."))
    problems, cleaned = {}, {}
    for name, clean, raw in (
        ("iban", clean_iban, iban),
        ("card", clean_card, card),
        ("link", clean_link, link),
    ):
        try:
            cleaned[name] = clean(raw)
        except Invalid as refusal:
            problems[name] = refusal.raw_message
    holder = (holder or "").strip()
    if text_problem(holder) or len(holder) > HOLDER_MAX:
        problems["holder"] = _("At most %(max)d characters, please.", max=HOLDER_MAX)
    if problems:
        raise Invalid(next(iter(problems.values())), fields=problems)
    if not any(cleaned.values()):
        raise Invalid(_("Give an IBAN, a card number or a payment link."), "iban")
    details = payment_details_of(org.id)
    before = _audit(details) if details else None
    if details is None:
        # One row per group: of two first sendings at once, the second changes the first's.
        add_unless_taken(PaymentDetails(organization_id=org.id, updated_by_id=actor.id, **cleaned))
        details = db.session.scalar(
            select(PaymentDetails)
            .where(PaymentDetails.organization_id == org.id)
            .execution_options(populate_existing=True)
        )
    details.iban, details.card, details.link = cleaned["iban"], cleaned["card"], cleaned["link"]
    details.holder = holder
    details.updated_by_id = actor.id
    db.session.flush()
    # The audit keeps that they changed and the last digits only.
    record(actor, "org.payment_details", details, before=before, after=_audit(details))
    return details


def _audit(details: PaymentDetails) -> dict:
    return {
        "iban_end": details.iban[-4:],
        "card_end": details.card[-4:],
        "link": bool(details.link),
    }
