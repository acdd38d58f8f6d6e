"""Instant candidates on need and offer pages and in the API: ranking, privacy, query count."""

from __future__ import annotations

import re

import pytest

from aidmatch.candidates.explain import explanation_text
from aidmatch.candidates.ranking import candidates_for_need, candidates_for_offer
from aidmatch.extensions import db
from aidmatch.geo import haversine_km
from aidmatch.matches.models import MatchSource
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.runs.job import run_matching
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_offer_between, make_place
from tests.sql_statements import statements

pytestmark = pytest.mark.usefixtures("english")  # these tests read English words


@pytest.fixture
def world(app):
    """A group in Kharkiv with a need, donors with offers near and far, staff, a stranger."""
    kharkiv = make_place("Kharkiv test", lat=49.99, lon=36.23, oblast="Kharkiv Oblast")
    chuhuiv = make_place("Chuhuiv test", lat=49.836, lon=36.688, oblast="Kharkiv Oblast")
    poltava = make_place("Poltava test", lat=49.589, lon=34.551, oblast="Poltava Oblast")
    kyiv = make_place("Kyiv test", lat=50.45, lon=30.52, oblast="Kyiv")
    front = make_org("Front A")
    organizer = make_user(Role.ORGANIZER, org=front, language="en")
    donor = make_org("Donor D", kind=OrgKind.DONOR_COLLECTIVE)
    donor_user = make_user(Role.DONOR, org=donor, language="en")
    other = make_org("Donor F", kind=OrgKind.DONOR_COLLECTIVE)
    stranger = make_user(Role.DONOR, org=other, language="en")
    hidden = make_org("Donor hidden", kind=OrgKind.DONOR_COLLECTIVE, verified=False)
    need = make_need(
        front, organizer, kharkiv, quantity=40, urgency="critical", lat=50.0012, lon=36.2487
    )
    far_need = make_need(front, organizer, kyiv, quantity=10, urgency="low")
    near = make_offer(
        donor, donor_user, chuhuiv, quantity=30, delivery_radius_km=100, lat=49.8411, lon=36.6923
    )
    wide = make_offer(donor, donor_user, poltava, quantity=20, delivery_radius_km=300)
    small = make_offer(donor, donor_user, poltava, quantity=5, delivery_radius_km=50)  # too far
    anywhere = make_offer(other, stranger, kyiv, quantity=100)
    parent = make_offer(other, stranger, chuhuiv, quantity=7, category="tactical-medicine")
    invisible = make_offer(hidden, None, chuhuiv, quantity=9, delivery_radius_km=100)
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    return locals()


def test_offers_that_could_cover_a_need_are_ranked_and_explained(world):
    items = candidates_for_need(world["need"], world["coordinator"], limit=10)
    ids = [item["offer_id"] for item in items]
    assert world["small"].id not in ids  # its 50 km do not reach Kharkiv
    assert world["invisible"].id in ids  # staff see unverified donors too
    assert {world["near"].id, world["wide"].id, world["anywhere"].id, world["parent"].id} <= set(
        ids
    )
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    top = next(item for item in items if item["offer_id"] == world["near"].id)
    need, near = world["need"], world["near"]
    exact = haversine_km(need.lat, need.lon, near.lat, near.lon)
    assert top["distance_km"] == pytest.approx(exact, abs=0.06)
    assert top["explanation"]["text"].startswith(f"{round(exact)} km, critical")
    assert top["quantity"] == 30 and top["remaining"] == 30


def test_a_donor_sees_no_hidden_offers_and_only_rounded_distances(world):
    need = world["need"]
    items = candidates_for_need(need, world["stranger"], limit=10)
    ids = [item["offer_id"] for item in items]
    assert world["invisible"].id not in ids
    for item in items:
        facts = item["explanation"]["facts"]
        assert item["distance_km"] % 5 == 0 and facts["distance_rounded"] is True
        assert facts["distance_km"] == item["distance_km"]
        assert item["explanation"]["text"].startswith("about ")
        # no score and no closeness: with the offer's public radius they would give the exact
        # distance away (privacy.Viewer.explanation)
        assert item["score"] is None and "score" not in item["explanation"]
        assert "closeness" not in item["explanation"]["parts"]
    near = next(i for i in items if i["offer_id"] == world["near"].id)
    exact = haversine_km(need.lat, need.lon, world["near"].lat, world["near"].lon)
    coarse = haversine_km(
        need.public_lat, need.public_lon, world["near"].public_lat, world["near"].public_lon
    )
    assert near["distance_km"] == 5 * round(coarse / 5)
    assert near["distance_km"] != round(exact, 1)


def test_the_group_itself_gets_rounded_distances_to_other_donors(world):
    items = candidates_for_need(world["need"], world["organizer"], limit=10)
    assert items and all(i["explanation"]["facts"].get("distance_rounded") for i in items)


def test_needs_an_offer_could_cover(world):
    items = candidates_for_offer(world["near"], world["donor_user"], limit=10)
    assert [i["need_id"] for i in items] == [world["need"].id]  # Kyiv is beyond 100 km
    item = items[0]
    assert item["urgency"] == "critical" and item["open"] == 40 and item["quantity"] == 30
    assert item["distance_km"] % 5 == 0
    everywhere = candidates_for_offer(world["anywhere"], world["coordinator"], limit=10)
    assert {i["need_id"] for i in everywhere} == {world["need"].id, world["far_need"].id}
    assert everywhere[0]["need_id"] == world["need"].id  # critical before low
    assert "distance_rounded" not in everywhere[0]["explanation"]["facts"]


@pytest.mark.parametrize("side", ["exact", "coarse"])
def test_a_donor_cannot_find_the_exact_point_by_moving_its_radius(world, side):
    """Whether a need and a donor's offer are candidates, for the donor, is decided at the
    need's coarse point: an offer whose radius reaches only one of the two points shows
    the need (and is shown on the need's page) as the coarse point says, never the exact one.
    Coordinators decide on the exact point."""
    need, donor = world["need"], world["donor_user"]
    offer = make_offer_between(need, donor.organization, donor, reaching=side, quantity=3)
    db.session.commit()

    donor_sees = side == "coarse"
    for_offer = [i["need_id"] for i in candidates_for_offer(offer, donor, limit=10)]
    assert (need.id in for_offer) == donor_sees
    on_need_page = [i["offer_id"] for i in candidates_for_need(need, donor, limit=20)]
    assert (offer.id in on_need_page) == donor_sees

    staff = world["coordinator"]
    assert (need.id in [i["need_id"] for i in candidates_for_offer(offer, staff)]) == (
        not donor_sees
    )
    staff_ids = [i["offer_id"] for i in candidates_for_need(need, staff, limit=20)]
    assert (offer.id in staff_ids) == (not donor_sees)


def test_matched_pairs_and_full_offers_are_left_out(world):
    from aidmatch.matches.operations import reserve

    need, near = world["need"], world["near"]
    reserve(need, near, near.organization, 5, source=MatchSource.CLAIM, donor_accepted=True)
    db.session.commit()
    ids = [i["offer_id"] for i in candidates_for_need(need, world["coordinator"], limit=10)]
    assert near.id not in ids
    assert candidates_for_offer(near, world["coordinator"]) == []


def count_queries(fn):
    with statements() as sent:
        fn()
    return len(sent)


def test_candidates_take_the_same_number_of_queries_for_few_or_many_rows(world):
    need, viewer = world["need"], world["stranger"]
    db.session.expire_all()
    few = count_queries(lambda: candidates_for_need(need, viewer, limit=10))
    chuhuiv = world["near"].place
    for i in range(12):
        make_offer(world["donor"], None, chuhuiv, quantity=3 + i, delivery_radius_km=100)
        make_need(world["front"], None, chuhuiv, quantity=2 + i)
    db.session.commit()
    db.session.expire_all()
    many = count_queries(lambda: candidates_for_need(need, viewer, limit=10))
    assert many == few <= 10  # reloading what expire_all dropped included
    offer = world["wide"]
    db.session.expire_all()
    assert count_queries(lambda: candidates_for_offer(offer, viewer, limit=10)) <= 10


def test_need_page_shows_candidates(world, login_as):
    client = login_as(world["stranger"])
    page = client.get(f"/needs/{world['need'].id}").get_data(as_text=True)
    assert "Offers that could cover this need" in page
    assert world["near"].title in page
    exact = haversine_km(world["need"].lat, world["need"].lon, world["near"].lat, world["near"].lon)
    assert f"{exact:.1f} km" not in page and f"{round(exact)} km" not in page.replace("about ", "x")
    assert re.search(r"about \d+ km, critical", page)


def test_offer_page_shows_needs_and_the_donors_waiting_proposals(world, login_as):
    run = run_matching(world["coordinator"])
    # near 30 + wide 10 for the need, anywhere 10 for the far one; the general offer
    # ("parent", tactical medicine for tourniquets) fits less and is not needed
    assert run.proposals == 3
    offer = world["near"]
    proposed = [m for m in offer_matches(offer.id)]
    assert proposed, "the run should propose the near offer"
    client = login_as(world["donor_user"])
    page = client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert "Proposals waiting for your answer" in page
    match_id = proposed[0].id
    assert f"/matches/{match_id}/accept" in page and f"/matches/{match_id}/decline" in page
    response = client.post(f"/matches/{match_id}/accept", data={"next": f"/offers/{offer.id}"})
    assert response.status_code == 302
    db.session.expire_all()
    page = client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert f"/matches/{match_id}/accept" not in page


def offer_matches(offer_id):
    from sqlalchemy import select

    from aidmatch.matches.models import Match

    return list(db.session.scalars(select(Match).where(Match.offer_id == offer_id)))


def test_others_do_not_see_a_donors_waiting_proposals(world, login_as):
    run_matching(world["coordinator"])
    client = login_as(world["stranger"])
    page = client.get(f"/offers/{world['near'].id}").get_data(as_text=True)
    assert "Proposals waiting for your answer" not in page
    assert "Needs this offer could cover" in page


def test_candidates_api_follows_visibility_and_privacy(world, api_client):
    api = api_client(world["stranger"])
    response = api.get(f"/needs/{world['need'].id}/candidates?limit=3")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["per_page"] == 3 and len(body["items"]) == 3 == body["total"]
    item = body["items"][0]
    assert {"offer_id", "title", "organization", "remaining", "distance_km", "score"} <= set(item)
    assert item["distance_km"] % 5 == 0 and item["explanation"]["text"]
    offers = api.get(f"/offers/{world['anywhere'].id}/candidates").get_json()
    assert {i["need_id"] for i in offers["items"]} == {world["need"].id, world["far_need"].id}
    assert api.get(f"/offers/{world['invisible'].id}/candidates").status_code == 404
    assert api.get("/needs/999999/candidates").status_code == 404
    assert api.get(f"/needs/{world['need'].id}/candidates?limit=500").status_code == 422
    staff = api_client(world["coordinator"]).get(f"/needs/{world['need'].id}/candidates").get_json()
    assert any(i["offer_id"] == world["invisible"].id for i in staff["items"])


def test_unverified_groups_needs_reach_no_donor(app):
    unverified = make_org("New group", verified=False)
    need = make_need(unverified, None, quantity=5)
    donor = make_org("Donor", kind=OrgKind.DONOR_COLLECTIVE)
    donor_user = make_user(Role.DONOR, org=donor, language="en")
    offer = make_offer(donor, donor_user, quantity=5)
    db.session.commit()
    assert candidates_for_offer(offer, donor_user) == []
    assert [i["need_id"] for i in candidates_for_offer(offer, make_user(Role.COORDINATOR))] == [
        need.id
    ]


def test_explanation_text_in_words(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        facts = {"distance_km": 34.2, "urgency": "critical", "days_waiting": 9, "days_left": None}
        assert explanation_text(facts) == "34 km, critical, waiting 9 days"
        facts = {"distance_km": 3.25, "urgency": "low", "days_waiting": 1, "days_left": 0}
        assert explanation_text(facts) == "3.2 km, low urgency, waiting 1 day, needed today"
        facts = {"distance_km": 35.0, "distance_rounded": True, "urgency": "high", "days_left": -2}
        assert explanation_text(facts) == "about 35 km, high urgency, 2 days overdue"
        assert explanation_text({"verified": False}) == "group not verified"
        assert explanation_text(None) == ""
