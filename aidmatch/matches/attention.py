"""The home page's lines about matches: answers, shipments and receipts due, reviews waiting."""

from __future__ import annotations

from flask import url_for
from flask_babel import ngettext
from sqlalchemy import func, select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import lifecycle
from aidmatch.matches.models import Match
from aidmatch.orgs.models import DONOR_KINDS
from aidmatch.permissions import is_staff
from aidmatch.web.home import AttentionItem, attention_provider


def _count(*conditions) -> int:
    return db.session.scalar(select(func.count(Match.id)).where(*conditions)) or 0


def review_queue_condition(now):
    """SQL: a pending match, still in time, that waits for a coordinator's word (what the
    lifecycle table lets a coordinator approve)."""
    return lifecycle.condition("approve", now)


@attention_provider
def _donor_matches(user):
    org = user.organization
    if org is None or org.kind not in DONOR_KINDS:
        return
    now = utcnow()
    answer = _count(lifecycle.open_to("accept", user, now))
    if answer:
        yield AttentionItem(
            ngettext(
                "%(num)d proposed match waits for your answer",
                "%(num)d proposed matches wait for your answer",
                answer,
            ),
            url_for("matches.index", _anchor="answer"),
            "warn",
        )
    to_ship = _count(lifecycle.open_to("ship", user, now))
    if to_ship:
        overdue = _count(
            lifecycle.side_condition("donor", user), lifecycle.condition("release", now)
        )
        yield AttentionItem(
            ngettext(
                "%(num)d confirmed match waits to be shipped",
                "%(num)d confirmed matches wait to be shipped",
                to_ship,
            ),
            url_for("matches.index", _anchor="ship"),
            "urgent" if overdue else "warn",
        )


@attention_provider
def _group_receipts(user):
    org = user.organization
    if org is None or org.kind in DONOR_KINDS:
        return
    shipped = _count(lifecycle.open_to("confirm_delivery", user, utcnow()))
    if shipped:
        yield AttentionItem(
            ngettext(
                "%(num)d shipment is on its way to you: confirm what arrives",
                "%(num)d shipments are on their way to you: confirm what arrives",
                shipped,
            ),
            url_for("matches.index", _anchor="receive"),
            "warn",
        )


@attention_provider
def _coordinator_review(user):
    if not is_staff(user):
        return
    now = utcnow()
    waiting = _count(review_queue_condition(now))
    if waiting:
        yield AttentionItem(
            ngettext(
                "%(num)d match waits for a coordinator's review",
                "%(num)d matches wait for a coordinator's review",
                waiting,
            ),
            url_for("review.index"),
            "warn",
        )
    overdue = _count(lifecycle.condition("release", now))
    if overdue:
        yield AttentionItem(
            ngettext(
                "%(num)d confirmed match was not shipped in time",
                "%(num)d confirmed matches were not shipped in time",
                overdue,
            ),
            url_for("review.index", _anchor="stale"),
            "urgent",
        )
