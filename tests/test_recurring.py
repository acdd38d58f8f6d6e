"""Recurring offers (aidmatch/recurring): a monthly pledge through three months, one of them
missed and one paused, with the right quantity available each month and the engine using it;
carry-over; the verbs' refusals; the offer page and the API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import JOBS
from aidmatch.matches import operations as match_ops
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.notify.models import Notification
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.recurring import operations as ops
from aidmatch.recurring.opening import run_periods
from aidmatch.recurring.periods import last_day, period_bounds, period_start
from aidmatch.runs.job import run_matching
from tests.match_helpers import assert_invariant, make_cast, refused


def series_offers(rec) -> list[Offer]:
    """The series' period offers that read as open, by period."""
    return [p.offer for p in ops.periods_of(rec)[::-1] if p.offer.effective_status == "open"]


def remaining(offer: Offer) -> int:
    db.session.refresh(offer)
    return offer.quantity - offer.allocated - offer.proposed


def told(user, kind: str) -> int:
    return len(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
        ).all()
    )


def test_periods_fall_on_the_start_day_clipped_to_short_months():
    start = date(2027, 1, 31)
    assert [period_start(start, "month", i) for i in range(4)] == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30),
    ]  # fmt: skip
    assert period_bounds(start, "month", date(2027, 3, 30)) == (
        date(2027, 2, 28),
        date(2027, 3, 31),
    )
    assert period_bounds(start, "week", date(2027, 2, 7)) == (date(2027, 2, 7), date(2027, 2, 14))
    assert period_bounds(start, "week", date(2027, 1, 30)) is None


def test_a_monthly_pledge_through_three_months_one_missed_one_paused(app, client, switch):
    """Month 1: 20 made available, 15 claimed and shipped, 5 lapse. Month 2: 20 again (not
    25), the engine proposes them, the donor accepts 10 that never ship, and pauses. Month 3:
    month 2 is flagged missed (the group and the coordinators told once), nothing opens while
    paused; resumed, 20 are available and the engine proposes them."""
    cast = make_cast(need_quantity=100, offer_quantity=30)
    first = cast.offer
    t1 = utcnow()
    rec = ops.make_recurring(first, {"every": "month", "quantity": 20}, cast.donor, now=t1)
    # Starting today, the offer itself is the first period, with the quantity per period.
    assert rec.every == "month" and rec.starts_on == t1.date()
    assert series_offers(rec) == [first]
    assert remaining(first) == 20
    assert first.available_until == last_day(rec, t1.date())

    # Month 1: a claim of 15 from it, approved and shipped.
    claimed = match_ops.claim_need(cast.need, cast.donor, 15, offer=first)
    match_ops.approve(claimed, cast.coordinator)
    match_ops.ship(claimed, cast.donor, "van")
    assert remaining(first) == 5
    assert run_periods(now=t1 + timedelta(days=3)) == 0  # nothing due yet
    db.session.commit()

    # Month 2: a new period of 20 (the 5 left lapse with month 1, which was not missed).
    t2 = t1 + (
        # the same time of day on the second period's first day
        _days(period_start(rec.starts_on, "month", 1) - rec.starts_on)
    )
    assert run_periods(now=t2) == 1
    assert run_periods(now=t2 + timedelta(hours=1)) == 0  # opens once
    db.session.commit()
    month1, month2 = ops.periods_of(rec)[::-1]
    assert (month1.unused, month1.missed_at) == (5, None)
    db.session.refresh(first)
    assert first.status == OfferStatus.EXPIRED
    second = month2.offer
    assert series_offers(rec) == [second]
    assert (second.quantity, remaining(second), month2.carried) == (20, 20, 0)
    assert second.title == first.title and second.organization_id == first.organization_id

    # The engine sees the period's offer like any other.
    run_matching(cast.coordinator)
    proposal = db.session.scalar(
        select(Match).where(Match.offer_id == second.id, Match.source == MatchSource.ENGINE)
    )
    assert proposal is not None and proposal.quantity == 20
    assert not db.session.scalar(
        select(Match).where(Match.offer_id == first.id, Match.source == MatchSource.ENGINE)
    )
    match_ops.accept(proposal, cast.donor, quantity=10)
    match_ops.approve(proposal, cast.coordinator)
    assert proposal.status == MatchStatus.CONFIRMED
    ops.pause(rec, cast.donor, now=t2 + timedelta(days=5))
    db.session.commit()

    # Month 3: month 2 closes missed (10 accepted, not shipped); paused, nothing opens.
    t3 = t1 + _days(period_start(rec.starts_on, "month", 2) - rec.starts_on)
    assert run_periods(now=t3) == 0
    db.session.commit()
    db.session.refresh(month2)
    assert month2.missed_at is not None and month2.unused == 10
    assert series_offers(rec) == []
    assert told(cast.organizer, "period_missed") == 1
    assert told(cast.coordinator, "period_missed_staff") == 1
    assert told(cast.donor, "period_missed_staff") == 0
    run_periods(now=t3 + timedelta(hours=2))
    assert told(cast.organizer, "period_missed") == 1  # once
    switch(cast.coordinator)
    home = client.get("/").get_data(as_text=True)
    assert "1 period of a recurring offer was missed lately" in home
    switch(cast.donor)
    page = client.get(f"/offers/{first.id}").get_data(as_text=True)
    assert "1 period missed" in page and "missed: matched goods not shipped" in page

    # Resumed: the third month's 20 (month 2's unused 10 not carried), and the engine uses it.
    ops.resume(rec, cast.donor, now=t3 + timedelta(days=2))
    db.session.commit()
    [third] = series_offers(rec)
    assert remaining(third) == 20
    assert ops.periods_of(rec)[0].starts_on == t3.date()
    run_matching(cast.coordinator)
    proposal3 = db.session.scalar(select(Match).where(Match.offer_id == third.id))
    assert proposal3 is not None and proposal3.quantity == 20
    assert_invariant()

    summary = ops.summary(rec, cast.organizer, today=t3.date() + timedelta(days=2))
    assert summary["next_due"] == period_start(rec.starts_on, "month", 3)
    assert summary["missed"] is None and "periods" not in summary  # the collective's only
    own = ops.summary(rec, cast.donor, today=t3.date())
    assert own["missed"] == 1 and [p["quantity"] for p in own["periods"]] == [20, 20, 20]


def _days(delta: timedelta) -> timedelta:
    return timedelta(days=delta.days)


def test_carry_over_adds_what_a_week_did_not_use(app):
    cast = make_cast(need_quantity=100, offer_quantity=10)
    t1 = utcnow()
    data = {"every": "week", "quantity": 10, "carry_over": True}
    rec = ops.make_recurring(cast.offer, data, cast.donor, now=t1)
    match_ops.claim_need(cast.need, cast.donor, 4, offer=cast.offer)
    assert run_periods(now=t1 + timedelta(days=7)) == 1
    [second] = series_offers(rec)
    assert (second.quantity, ops.periods_of(rec)[0].carried) == (16, 6)


def test_a_later_start_and_an_end_and_stop(app):
    cast = make_cast(offer_quantity=10)
    t1 = utcnow()
    start = t1.date() + timedelta(days=3)
    ends = start + timedelta(days=9)
    data = {"every": "week", "quantity": 7, "starts_on": start.isoformat(), "ends_on": ends}
    rec = ops.make_recurring(cast.offer, data, cast.donor, now=t1)
    assert ops.periods_of(rec) == [] and remaining(cast.offer) == 10  # stays a one-off now
    assert run_periods(now=t1 + timedelta(days=3)) == 1
    [p1] = ops.periods_of(rec)
    assert p1.offer_id != cast.offer.id and p1.offer.quantity == 7
    assert run_periods(now=t1 + timedelta(days=10)) == 1
    # The last period is cut at the series' end.
    assert ops.periods_of(rec)[0].offer.available_until == ends
    assert run_periods(now=t1 + timedelta(days=17)) == 0
    ops.stop(rec, cast.donor)
    refused(409, ops.pause, rec, cast.donor)
    refused(409, ops.resume, rec, cast.donor)
    refused(409, ops.change, rec, {"quantity": 3}, cast.donor)
    refused(409, ops.stop, rec, cast.donor)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"every": "day", "quantity": 5}, "every"),
        ({"every": "month", "quantity": 0}, "quantity"),
        ({"every": "month", "quantity": 5, "starts_on": "2020-01-01"}, "starts_on"),
        ({"every": "month", "quantity": 5, "starts_on": "tomorrow"}, "starts_on"),
        ({"every": "month", "quantity": 5, "starts_on": "9999-12-31"}, "starts_on"),
        ({"every": "month", "quantity": 5, "ends_on": "2020-01-01"}, "ends_on"),
    ],
)
def test_bad_input_is_refused_naming_the_field(app, data, field):
    cast = make_cast()
    error = refused(422, ops.make_recurring, cast.offer, data, cast.donor)
    assert field in error.fields
    assert ops.recurrence_of(cast.offer) is None


def test_refusals_of_the_verbs(app):
    cast = make_cast()
    refused(403, ops.make_recurring, cast.offer, {"every": "month", "quantity": 5}, cast.organizer)
    start = utcnow().date() + timedelta(days=10)
    data = {"every": "month", "quantity": 5, "starts_on": start}
    rec = ops.make_recurring(cast.offer, data, cast.donor)
    refused(409, ops.make_recurring, cast.offer, {"every": "week", "quantity": 5}, cast.donor)
    error = refused(422, ops.change, rec, {"ends_on": start - timedelta(days=1)}, cast.donor)
    assert "ends_on" in error.fields
    refused(422, ops.change, rec, {"every": "week"}, cast.donor)
    refused(409, ops.resume, rec, cast.donor)
    ops.pause(rec, cast.donor)
    refused(409, ops.pause, rec, cast.donor)
    ops.change(rec, {"quantity": 9}, cast.donor)
    assert rec.quantity == 9


def test_the_offer_page_and_the_api(app, client, switch, api_client):
    cast = make_cast(offer_quantity=30)
    db.session.commit()
    switch(cast.donor)
    page = client.get(f"/offers/{cast.offer.id}").get_data(as_text=True)
    assert "Make this offer repeat" in page
    bad = client.post(
        f"/offers/{cast.offer.id}/repeat",
        data={"every": "month", "quantity": "0", "starts_on": utcnow().date().isoformat()},
    )
    assert bad.status_code == 422
    assert "The quantity must be more than zero." in bad.get_data(as_text=True)
    sent = client.post(
        f"/offers/{cast.offer.id}/repeat",
        data={"every": "month", "quantity": "20", "starts_on": utcnow().date().isoformat()},
    )
    assert sent.status_code == 302
    bad = client.post(
        f"/offers/{cast.offer.id}/repeat/change", data={"quantity": "5", "ends_on": "2020-01-01"}
    )
    assert bad.status_code == 422
    assert "The end may not be before the start." in bad.get_data(as_text=True)
    assert client.post(f"/offers/{cast.offer.id}/repeat/pause").status_code == 302
    bad = client.post(f"/offers/{cast.offer.id}/repeat/pause")
    assert bad.status_code == 409

    switch(cast.organizer)
    page = client.get(f"/offers/{cast.offer.id}").get_data(as_text=True)
    assert "Every month: 20" in page and "paused" in page
    assert client.post(f"/offers/{cast.offer.id}/repeat/resume").status_code == 403

    api = api_client(cast.organizer)
    body = api.get(f"/offers/{cast.offer.id}/recurrence").json
    assert body["every"] == "month" and body["quantity"] == 20 and body["paused"] is True
    assert body.get("periods") is None
    assert api.post(f"/offers/{cast.offer.id}/recurrence/resume").status_code == 403
    donor_api = api_client(cast.donor)
    answer = donor_api.post(f"/offers/{cast.offer.id}/recurrence/resume")
    assert answer.status_code == 200 and answer.json["next_due"]
    answer = donor_api.patch(f"/offers/{cast.offer.id}/recurrence", json={"quantity": 0})
    assert answer.status_code == 422 and "quantity" in answer.json["error"]["fields"]
    assert "recurring.periods" in JOBS


def test_the_group_sees_on_its_match_what_comes_regularly(app, client, switch):
    cast = make_cast(offer_quantity=30)
    ops.make_recurring(cast.offer, {"every": "week", "quantity": 12}, cast.donor)
    match = match_ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    db.session.commit()
    switch(cast.organizer)
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "Every week: 12" in page and "Next due on" in page


def test_the_offer_s_history_says_in_words_what_was_done_to_its_repetition(app, client, login_as):
    """The offer page's history names the repetition's verbs and fields in the reader's words
    (postings/history.py), not the audit trail's names ("offer.repeat_pause", "carry_over")."""
    cast = make_cast()
    rec = ops.make_recurring(cast.offer, {"every": "month", "quantity": 5}, cast.donor)
    ops.pause(rec, cast.donor)
    db.session.commit()
    login_as(cast.donor)
    page = client.get(f"/offers/{cast.offer.id}").get_data(as_text=True)
    assert "made to repeat" in page and "repetition paused" in page
    assert "What is left carries over" in page and "month" in page
    for raw in ("offer.repeat", "repeat_pause", "paused_at"):  # (carry_over: a field's name)
        assert raw not in page, raw
