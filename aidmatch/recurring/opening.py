"""Opening and closing the periods of recurring offers: the hourly job ``recurring.periods``
(and the verbs that start or resume a series) open each due period once and close each ended
one once.

**Opening** a period makes an offer of its own for it: a copy of the series' latest offer
(words, category, place and point, radius) with the quantity per period, plus, with
carry-over, what the previous period did not use; available until the period's last day (or
the series' end). One row per (series, start) (a unique constraint): a period opens once,
whoever opens it. Runs, instant candidates, claims and requests see it like any offer, and
what is matched against it is counted against that period.

**Closing** a period (its end has passed) stores its offer as expired, so what it did not use
lapses (or is carried into the next period), and checks whether it was **missed**: a match
made against the period, which the donor had accepted (confirmed, or pending with the donor's
consent), has still not shipped when the period ended. A missed period is flagged
(``missed_at``: the offer's page, the coordinators' home page) and told once to the members
of each group waiting on such a match (``period_missed``) and to the coordinators
(``period_missed_staff``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from aidmatch.audit.operations import record
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import periodic
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.notify.outbox import tell_all
from aidmatch.notify.recipients import each_told, members_of, posting_params, staff
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.postings.operations import expire_stale, set_quantity, snapshot
from aidmatch.postings.validate import MAX_QUANTITY
from aidmatch.recurring.models import Recurrence, RecurrencePeriod
from aidmatch.recurring.periods import last_day, period_bounds, runs_on

COPIED = (
    "organization_id", "title", "description", "search_text", "category_id", "place_id",
    "lat", "lon", "point_set", "public_lat", "public_lon", "delivery_radius_km",
)  # fmt: skip


def adopt_first_period(rec: Recurrence, now: datetime) -> RecurrencePeriod:
    """The series' own offer is its first period (a series starting today)."""
    offer = rec.offer
    start, end = period_bounds(rec.starts_on, rec.every, rec.starts_on)
    before = snapshot(offer, ("quantity", "available_until"))
    set_quantity(offer, rec.quantity, "allocated")
    offer.available_until = last_day(rec, start)
    period = RecurrencePeriod(
        recurrence=rec, starts_on=start, ends_on=end, offer_id=offer.id,
        quantity=rec.quantity, opened_at=now,
    )  # fmt: skip
    db.session.add(period)
    db.session.flush()
    record(
        None,
        "offer.update",
        offer,
        before=before,
        after=snapshot(offer, ("quantity", "available_until")),
    )
    return period


def _latest(rec: Recurrence) -> RecurrencePeriod | None:
    return db.session.scalar(
        select(RecurrencePeriod)
        .where(RecurrencePeriod.recurrence_id == rec.id)
        .order_by(RecurrencePeriod.starts_on.desc())
        .limit(1)
    )


def unused(offer: Offer) -> int:
    """What a period's offer has left (what its matches, hard or soft, do not hold)."""
    return max(offer.quantity - offer.allocated - offer.proposed, 0)


def _open(rec: Recurrence, start: date, end: date, now: datetime) -> RecurrencePeriod | None:
    """Open the period [start, end) unless it is open already (then None)."""
    latest = _latest(rec)
    if latest is not None and latest.starts_on >= start:
        return None
    template = latest.offer if latest is not None else rec.offer
    carried = 0
    if rec.carry_over and latest is not None:
        db.session.refresh(latest.offer, ["quantity", "allocated", "proposed"])
        carried = min(unused(latest.offer), MAX_QUANTITY - rec.quantity)
    offer = Offer(
        **{column: getattr(template, column) for column in COPIED},
        created_by_id=rec.created_by_id,
        quantity=rec.quantity + carried,
        available_until=last_day(rec, start),
        status=OfferStatus.OPEN,
    )
    try:
        with db.session.begin_nested():
            db.session.add(offer)
            db.session.flush()
            period = RecurrencePeriod(
                recurrence_id=rec.id, starts_on=start, ends_on=end, offer_id=offer.id,
                quantity=offer.quantity, carried=carried, opened_at=now,
            )  # fmt: skip
            db.session.add(period)
            db.session.flush()
    except IntegrityError:  # opened meanwhile by another job or verb
        return None
    after = {
        **snapshot(offer, ("title", "category_id", "quantity", "available_until")),
        "recurrence_id": rec.id,
        "period_starts_on": start,
    }
    record(None, "offer.create", offer, after=after)
    return period


def open_due(rec: Recurrence, now: datetime) -> RecurrencePeriod | None:
    """Close the series' ended periods, then open the period `now` falls in if the series
    runs then and it is not open yet; returns the period opened (None: none)."""
    today = now.date()
    for period in db.session.scalars(
        select(RecurrencePeriod)
        .where(
            RecurrencePeriod.recurrence_id == rec.id,
            RecurrencePeriod.closed_at.is_(None),
            RecurrencePeriod.ends_on <= today,
        )
        .order_by(RecurrencePeriod.starts_on)
    ):
        close(period, now)
    if not runs_on(rec, today):
        return None
    start, end = period_bounds(rec.starts_on, rec.every, today)
    return _open(rec, start, end, now)


def late_matches(period: RecurrencePeriod) -> list[Match]:
    """The matches against this period the donor accepted and has not shipped."""
    return list(
        db.session.scalars(
            select(Match)
            .options(joinedload(Match.need))
            .where(
                Match.offer_id == period.offer_id,
                or_(
                    Match.status == MatchStatus.CONFIRMED,
                    (Match.status == MatchStatus.PENDING) & Match.donor_accepted_at.is_not(None),
                ),
            )
            .order_by(Match.id)
        )
    )


def close(period: RecurrencePeriod, now: datetime) -> bool:
    """Close an ended period once (a conditional UPDATE): its offer expires, what it did not
    use is noted, a miss is flagged and told. Returns whether this call closed it."""
    offer = db.session.get(Offer, period.offer_id)
    db.session.refresh(offer, ["quantity", "allocated", "proposed"])
    late = late_matches(period)
    changed = db.session.execute(
        update(RecurrencePeriod)
        .where(RecurrencePeriod.id == period.id, RecurrencePeriod.closed_at.is_(None))
        .values(closed_at=now, unused=unused(offer), missed_at=now if late else None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(period)
    if not changed:
        return False
    expire_stale_offer(offer, period.ends_on)
    if late:
        tell_missed(period, offer, late)
    return True


def expire_stale_offer(offer: Offer, day: date) -> None:
    """Store `expired` on a period's offer once its last day is behind `day`."""
    from aidmatch.offers.kind import OFFER

    expire_stale(OFFER, today=day, ids=[offer.id])
    db.session.refresh(offer, ["status"])


def tell_missed(period: RecurrencePeriod, offer: Offer, late: list[Match]) -> int:
    """Tell the groups waiting on the period's late matches, and the coordinators, once."""
    members = members_of(m.need.organization_id for m in late)
    tellings = []
    for match in late:
        tellings += each_told(
            members[match.need.organization_id],
            "period_missed",
            lambda user, m=match: posting_params(m.need, user, quantity=m.quantity),
            match=match,
            need=match.need,
            dedupe_key=f"period_missed:p{period.id}:m{match.id}",
        )
    tellings += each_told(
        staff(),
        "period_missed_staff",
        lambda user: posting_params(offer, user, quantity=sum(m.quantity for m in late)),
        offer=offer,
        dedupe_key=f"period_missed_staff:p{period.id}",
    )
    record(
        None,
        "offer.period_missed",
        offer,
        after={"period_starts_on": period.starts_on, "matches": [m.id for m in late]},
    )
    return len(tell_all(tellings))


@periodic("recurring.periods", minute="7")
def run_periods(now: datetime | None = None) -> int:
    """Close ended periods and open due ones of every series; returns how many opened."""
    now = now or utcnow()
    today = now.date()
    with_open_periods = select(RecurrencePeriod.recurrence_id).where(
        RecurrencePeriod.closed_at.is_(None)
    )
    series = db.session.scalars(
        select(Recurrence)
        .where(
            or_(
                Recurrence.id.in_(with_open_periods),
                (Recurrence.stopped_at.is_(None))
                & (Recurrence.starts_on <= today)
                & (Recurrence.ends_on.is_(None) | (Recurrence.ends_on >= today - timedelta(1))),
            )
        )
        .order_by(Recurrence.id)
    ).all()
    return sum(open_due(rec, now) is not None for rec in series)
