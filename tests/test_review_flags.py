"""The flags a coordinator sees on a match (matches/flags.py): general_offer and short_time,
the Python predicate and the SQL rule agreeing, and both shown and filtered in the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import flags
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchSource
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place


def flagged_by_sql(name: str, now) -> set[int]:
    return set(db.session.scalars(select(Match.id).where(flags.condition(name, now))))


def flagged_in_python(name: str, now) -> set[int]:
    return {m.id for m in db.session.scalars(select(Match)) if name in flags.flags_of(m, now)}


@pytest.fixture
def food(app):
    """A group asking for baby formula and for canned food; a donor with a general "Food"
    offer (the parent category) and a baby food offer; a coordinator."""
    group = make_org("Formula group", verified=True)
    place = make_place("Formulivka", oblast="Kharkiv Oblast")
    formula = make_need(
        group, place=place, title="Baby formula", category="baby-food", quantity=50,
        urgency="critical",
    )  # fmt: skip
    canned = make_need(group, place=place, title="Canned meat", category="canned-food")
    donor_org = make_org("Supermarket donors", kind=OrgKind.DONOR_COLLECTIVE)
    donor = make_user(Role.DONOR, org=donor_org)
    general = make_offer(
        donor_org, donor, title="Mixed food products from a supermarket donation",
        category="food", quantity=120,
    )  # fmt: skip
    specific = make_offer(donor_org, donor, title="Infant formula tins", category="baby-food")
    coordinator = make_user(Role.COORDINATOR, language="en")
    db.session.commit()
    return {
        "formula": formula, "canned": canned, "general": general, "specific": specific,
        "donor_org": donor_org, "donor": donor, "coordinator": coordinator, "group": group,
    }  # fmt: skip


def engine(need, offer, org, quantity=5) -> Match:
    return ops.reserve(need, offer, org, quantity, source=MatchSource.ENGINE, score=0.5)


def test_a_general_offer_on_a_specific_need_is_flagged(food, client, login_as):
    general = engine(food["formula"], food["general"], food["donor_org"])
    same = engine(food["formula"], food["specific"], food["donor_org"])
    claimed = ops.claim_need(food["canned"], food["donor"], 3, offer=food["general"])
    direct = ops.claim_need(food["canned"], food["donor"], 2)
    request = ops.reserve(
        food["formula"], food["general"], food["donor_org"], 4, source=MatchSource.REQUEST
    )
    db.session.commit()
    now = utcnow()
    expected = {general.id, claimed.id, request.id}  # the pair decides, whatever the source
    assert flagged_in_python("general_offer", now) == expected
    assert flagged_by_sql("general_offer", now) == expected
    assert same.id not in expected and direct.id not in expected

    login_as(food["coordinator"])
    html = client.get("/review").get_data(as_text=True)
    row = html[html.index(f'id="m{general.id}"') :].split("</tr>")[0]
    assert "Baby formula" in row and "Mixed food products" in row
    assert "general offer: check it contains what is needed" in row
    assert "(Food)" in row  # the offer's own, wider category
    same_row = html[html.index(f'id="m{same.id}"') :].split("</tr>")[0]
    assert "general offer" not in same_row

    html = client.get("/review?flag=general_offer").get_data(as_text=True)
    assert "3 matches wait for review" in html
    assert f'id="m{same.id}"' not in html and f'id="m{general.id}"' in html


def test_a_need_due_before_the_usual_ship_by_is_short_of_time(food, client, login_as, app):
    ttl_days = app.config.get("MATCH_CONFIRMED_TTL_DAYS", 14)
    today = utcnow().date()
    soon = make_need(
        food["group"],
        title="Needed in five days",
        needed_by=(today + timedelta(days=5)).isoformat(),
    )
    later = make_need(
        food["group"], title="Needed later",
        needed_by=(today + timedelta(days=ttl_days + 3)).isoformat(),
    )  # fmt: skip
    whenever = make_need(food["group"], title="Whenever")
    short = ops.claim_need(soon, food["donor"], 2)
    fine = [ops.claim_need(n, food["donor"], 2) for n in (later, whenever)]
    db.session.commit()
    now = utcnow()
    assert flags.short_time_cutoff(now) == (now + timedelta(days=ttl_days)).date()
    assert flagged_in_python("short_time", now) == {short.id}
    assert flagged_by_sql("short_time", now) == {short.id}
    # Confirmed, a match has its own ship-by date: the flag is for pending matches.
    ops.approve(short, food["coordinator"])
    db.session.commit()
    assert flags.is_short_of_time(db.session.get(Match, short.id), now) is False
    assert flagged_by_sql("short_time", now) == set()

    again = ops.claim_need(soon, food["donor"], 1)
    db.session.commit()
    login_as(food["coordinator"])
    html = client.get("/review?flag=short_time").get_data(as_text=True)
    assert "1 match waits for review" in html
    row = html[html.index(f'id="m{again.id}"') :].split("</tr>")[0]
    assert "short time to ship" in row
    assert all(f'id="m{m.id}"' not in html for m in fine)
