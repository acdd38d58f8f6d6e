"""What a delivery slip (and the receipt page) prints of a match, in a given language: the
items (category; the title unless the need is sensitive: privacy/policy.paper_title),
quantity and unit, the need's settlement (never a point), the match number; and the QR code
of the receipt link, as inline SVG (segno), drawn without JavaScript."""

from __future__ import annotations

import segno
from flask import render_template
from flask_babel import force_locale
from markupsafe import Markup
from sqlalchemy import func, select

from aidmatch.auth.models import Language, User
from aidmatch.extensions import db
from aidmatch.places.labels import place_label
from aidmatch.privacy.policy import Viewer
from aidmatch.web.labels import unit_label


def org_language(org_id: int) -> str:
    """An organization's language: the one most of its active members chose (Ukrainian when
    none, or on a tie with it)."""
    rows = db.session.execute(
        select(User.language, func.count())
        .where(User.organization_id == org_id, User.active.is_(True))
        .group_by(User.language)
    ).all()
    if not rows:
        return Language.UK.value
    rows.sort(key=lambda row: (-row[1], row[0] != Language.UK))
    return str(rows[0][0].value if hasattr(rows[0][0], "value") else rows[0][0])


def slip_languages(match) -> list[str]:
    """The receiving group's language first, then the donor's if it differs."""
    group = org_language(match.need.organization_id)
    donor = org_language(match.organization_id)
    return [group] if donor == group else [group, donor]


def slip_facts(match) -> dict:
    """What the slip shows of the match, in the current language (words are made here)."""
    need = match.need
    return {
        "number": match.id,
        "category": need.category.name(_current_language()),
        "title": Viewer.paper_title(need),
        "quantity": match.quantity,
        "unit": unit_label(need.category.unit),
        "place": place_label(need.place),
        "group": need.organization.name,
        "donor": match.organization.name,
        "quantity_received": match.quantity_received,
    }


def _current_language() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "uk")


def slip_blocks(match, template: str, **context) -> list[Markup]:
    """The template rendered once per slip language, each with the facts in that language."""
    blocks = []
    for language in slip_languages(match):
        with force_locale(language):
            html = render_template(template, facts=slip_facts(match), lang=language, **context)
        # Our own template, drawn by Jinja with autoescaping: already safe HTML.
        blocks.append(Markup(html))  # nosec B704
    return blocks


def qr_svg(url: str) -> Markup:
    """The QR code of this URL as an inline SVG element (no script, no external file)."""
    code = segno.make(url, error="m")
    # segno draws the SVG from the code's modules; the URL (ours) is not written into it.
    return Markup(code.svg_inline(scale=4, border=2, title="QR", omitsize=False))  # nosec B704
