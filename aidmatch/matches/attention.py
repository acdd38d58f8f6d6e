"""The home page's lines about matches: answers, shipments and receipts due, reviews waiting."""

from __future__ import annotations

from flask import url_for
from flask_babel import ngettext
from sqlalchemy import func, or_, select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.home import AttentionItem, attention_provider
from aidmatch.matches.lists import overdue_condition
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.needs.models import Need
from aidmatch.orgs.models import DONOR_KINDS
from aidmatch.permissions import is_staff


def _count(*conditions) -> int:
    return db.session.scalar(select(func.count(Match.id)).where(*conditions)) or 0


def not_lapsed(now):
    """SQL: a pending match still within its time."""
    return or_(Match.expires_at.is_(None), Match.expires_at > now)


def review_queue_condition(now):
    """SQL: a pending match that still needs a coordinator's word."""
    return (
        (Match.status == MatchStatus.PENDING)
        & Match.coordinator_approved_at.is_(None)
        & not_lapsed(now)
    )


@attention_provider
def _donor_matches(user):
    org = user.organization
    if org is None or org.kind not in DONOR_KINDS:
        return
    now = utcnow()
    answer = _count(
        Match.organization_id == org.id,
        Match.status == MatchStatus.PENDING,
        Match.donor_accepted_at.is_(None),
        not_lapsed(now),
    )
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
    to_ship = _count(Match.organization_id == org.id, Match.status == MatchStatus.CONFIRMED)
    if to_ship:
        overdue = _count(Match.organization_id == org.id, overdue_condition(now))
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
    shipped = _count(
        Match.status == MatchStatus.SHIPPED, Match.need.has(Need.organization_id == org.id)
    )
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
    overdue = _count(overdue_condition(now))
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
