"""Dates that make sense: a confirmed match ships by the need's needed-by date at the latest,
an extension never goes past it, and coordinators are told when the time is short."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import MatchSource, MatchStatus
from aidmatch.matches.rules import needed_by_end, ship_by, time_too_short
from aidmatch.refusals import Conflict
from aidmatch.web.i18n import local_datetime
from tests.match_helpers import assert_invariant, make_cast

pytestmark = pytest.mark.usefixtures("english")

SHORT = "less than the usual 14 days to ship"


def test_ship_by_is_the_needed_by_date_when_that_comes_first(app):
    confirmed = datetime(2026, 12, 6, 10, 30, tzinfo=UTC)
    by_16 = SimpleNamespace(needed_by=date(2026, 12, 16))
    assert ship_by(by_16, confirmed) == datetime(2026, 12, 16, 23, 59, tzinfo=UTC)  # not the 20th
    assert time_too_short(by_16, confirmed)
    no_date = SimpleNamespace(needed_by=None)
    assert ship_by(no_date, confirmed) == datetime(2026, 12, 20, 10, 30, tzinfo=UTC)
    assert not time_too_short(no_date, confirmed)
    later = SimpleNamespace(needed_by=date(2027, 1, 31))
    assert ship_by(later, confirmed) == confirmed + timedelta(days=14)
    assert not time_too_short(later, confirmed)


def days_ahead(n: int) -> date:
    return utcnow().date() + timedelta(days=n)


def confirmed(cast, quantity: int = 10):
    match = ops.claim_need(cast.need, cast.donor, quantity, offer=cast.offer)
    ops.approve(match, cast.coordinator)
    assert match.status == MatchStatus.CONFIRMED
    return match


def test_a_confirmed_match_ships_by_the_needed_by_date_and_coordinators_are_told(app, switch):
    cast = make_cast(needed_by=days_ahead(10))
    match = confirmed(cast)
    end = needed_by_end(cast.need.needed_by)
    assert match.expires_at == end < match.confirmed_at + timedelta(days=14)
    db.session.commit()
    page = switch(cast.coordinator).get(f"/matches/{match.id}").get_data(as_text=True)
    assert SHORT in page
    assert local_datetime(end) in page  # "... left to ship (until <the 16th>)"
    page = switch(cast.donor).get(f"/matches/{match.id}").get_data(as_text=True)
    assert local_datetime(end) in page and SHORT not in page


def test_time_enough_is_not_flagged(app, login_as):
    cast = make_cast(needed_by=days_ahead(30))
    match = confirmed(cast)
    assert match.expires_at == match.confirmed_at + timedelta(days=14)
    db.session.commit()
    page = login_as(cast.coordinator).get(f"/matches/{match.id}").get_data(as_text=True)
    assert "less than the usual" not in page


def test_an_extension_stops_at_the_needed_by_date_and_is_refused_there(app):
    cast = make_cast(needed_by=days_ahead(4))
    pending = ops.reserve(
        cast.need, cast.offer, cast.donor_org, 5, source=MatchSource.ENGINE, score=0.5
    )
    end = needed_by_end(cast.need.needed_by)
    assert pending.expires_at + timedelta(hours=72) > end  # a whole extension would pass it
    ops.request_extension(pending, cast.donor)
    assert pending.extension_used and pending.expires_at == end  # capped there
    match = confirmed(cast, 3)
    assert match.expires_at == end
    with pytest.raises(Conflict) as refused:
        ops.request_extension(match, cast.donor)
    assert "no more time can be given" in refused.value.message
    db.session.refresh(match)
    assert match.expires_at == end and not match.extension_used
    assert_invariant()
