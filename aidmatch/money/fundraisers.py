"""Fundraisers (DESIGN: Fundraiser): a donor collective's public page for a set of priced
needs, read without an account at /f/<slug>: a progress bar of pledged and received per
currency, and what the money bought, published as the transparency page publishes deliveries
(transparency/queries: after TRANSPARENCY_DELAY_DAYS, whole weeks at once, dated by the week;
a group named only where may_name allows). No need's title, settlement, point or receipt
photo is shown there: its category and oblast only."""

from __future__ import annotations

import re
import secrets
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from aidmatch.audit.operations import record
from aidmatch.extensions import db
from aidmatch.matches.models import Match
from aidmatch.money.models import SLUG_MAX, TITLE_MAX, Fundraiser
from aidmatch.money.operations import cost_of
from aidmatch.money.spending import spending_of, totals
from aidmatch.needs.kind import NEED
from aidmatch.needs.models import Need
from aidmatch.permissions import can_run_fundraiser
from aidmatch.postings.queries import find_visible
from aidmatch.privacy import Viewer
from aidmatch.privacy.names import may_name
from aidmatch.refusals import Invalid, NotAllowed, NotFound
from aidmatch.transparency.queries import monday, oblast_name, publication_cutoff
from aidmatch.web.text import text_problem

DESCRIPTION_MAX, MAX_NEEDS = 5000, 50


def _slug(text: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[: SLUG_MAX - 8].strip("-")
    return base or "fundraiser"


def create(
    org, actor, title: str, description: str = "", need_ids=(), slug: str = ""
) -> Fundraiser:
    """A collective's fundraiser for needs it may see, each priced and not sensitive."""
    if not can_run_fundraiser(actor, org):
        raise NotAllowed(_("Members of a verified donor collective run its fundraisers."))
    problems = {}
    title = (title or "").strip() if isinstance(title, str) else ""
    if not title:
        problems["title"] = _("Give the fundraiser a title.")
    elif len(title) > TITLE_MAX or text_problem(title):
        problems["title"] = text_problem(title) or _(
            "At most %(max)d characters, please.", max=TITLE_MAX
        )
    description = (description or "").strip() if isinstance(description, str) else ""
    if len(description) > DESCRIPTION_MAX or text_problem(description):
        problems["description"] = text_problem(description) or _(
            "At most %(max)d characters, please.", max=DESCRIPTION_MAX
        )
    needs = []
    ids = list(dict.fromkeys(need_ids or ()))
    if not ids:
        problems["need_ids"] = _("Choose the needs it raises money for.")
    elif len(ids) > MAX_NEEDS:
        problems["need_ids"] = _("At most %(max)d needs, please.", max=MAX_NEEDS)
    for need_id in ids if "need_ids" not in problems else ():
        try:
            need = find_visible(NEED, actor, need_id)
        except NotFound:
            problems["need_ids"] = _("Need %(id)s is not one you may raise money for.", id=need_id)
            break
        if not Viewer.on_public_page(need) or cost_of(need.id) is None:
            problems["need_ids"] = _(
                "Only priced needs of verified groups that are not sensitive go on a public page."
            )
            break
        needs.append(need)
    slug = _slug(slug or title)
    if db.session.scalar(select(Fundraiser.id).where(Fundraiser.slug == slug)) is not None:
        slug = f"{slug}-{secrets.token_hex(3)}"
    if problems:
        raise Invalid(next(iter(problems.values())), fields=problems)
    item = Fundraiser(
        organization_id=org.id,
        slug=slug,
        title=title,
        description=description,
        created_by_id=actor.id,
    )
    item.needs = needs
    db.session.add(item)
    db.session.flush()
    record(actor, "money.fundraiser", item, after={"slug": slug, "title": title, "need_ids": ids})
    return item


def by_slug(slug: str) -> Fundraiser:
    """The fundraiser at /f/<slug>; NotFound otherwise."""
    item = db.session.scalar(select(Fundraiser).where(Fundraiser.slug == slug)) if slug else None
    if item is None:
        raise NotFound(_("Not found"))
    return item


def _need_public(need: Need, lang: str) -> dict:
    return {
        "category": need.category.slug,
        "category_name": need.category.name(lang),
        "oblast_name": oblast_name(need.place.oblast, lang),
        "group": need.organization.name if _names(need) else None,
        "status": _public_status(need),
    }


def _public_status(need: Need) -> str:
    """The need's status as the public page says it: "fulfilled" only once every delivery on
    it is published (transparency/queries.publication_cutoff: the delay, whole weeks), "open"
    until then; timing is location too, and the day it turned fulfilled is the day the
    goods arrived."""
    status = str(need.effective_status)
    if status != "fulfilled":
        return status
    unpublished = select(Match.id).where(
        Match.need_id == need.id,
        Match.delivered_at.is_not(None),
        Match.delivered_at >= publication_cutoff(),
    )
    return "open" if db.session.scalar(unpublished.limit(1)) is not None else status


def _names(need: Need) -> bool:
    return may_name(need.organization.public_name, need.sensitive, need.place.oblast)


def public_view(item: Fundraiser, lang: str) -> dict:
    """What anyone may read of a fundraiser: its words, its needs (category, oblast, a group's
    name where allowed), the goal, pledged and received per currency, and what the money bought,
    only from reports older than the publication cutoff, dated by their week."""
    needs = [n for n in item.needs if Viewer.on_public_page(n)]
    sums = totals(n.id for n in needs)
    progress: dict[str, dict[str, int]] = {}
    for need in needs:
        cost = cost_of(need.id)
        if cost is not None:
            entry = progress.setdefault(
                str(cost.currency), {"goal": 0, "pledged": 0, "received": 0}
            )
            entry["goal"] += cost.amount_minor
        for currency, figures in sums[need.id].items():
            entry = progress.setdefault(currency, {"goal": 0, "pledged": 0, "received": 0})
            entry["pledged"] += figures["pledged"]
            entry["received"] += figures["received"]
    by_id = {n.id: n for n in needs}
    bought = []
    for report in spending_of(by_id, before=publication_cutoff()):
        need = by_id[report.need_id]
        week: date = monday(report.spent_on)
        bought.append({"week": week, "items": report.items, "amount_minor": report.amount_minor,
                       "currency": str(report.currency), **_need_public(need, lang)})  # fmt: skip
    bought.sort(key=lambda row: row["week"], reverse=True)
    return {
        "slug": item.slug,
        "title": item.title,
        "description": item.description,
        "collective": item.organization.name,
        "needs": [_need_public(n, lang) for n in needs],
        "progress": dict(sorted(progress.items())),
        "bought": bought,
    }
