"""Category fit, with the real category tree: a general offer ("Food") for a specific need
("Baby food") ranks below an offer of the need's own category and says so, in the instant
candidates, in a matching run's proposals, and on the donor's proposal page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from aidmatch.candidates.ranking import candidates_for_need
from aidmatch.extensions import db
from aidmatch.matches.models import Match
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.runs.job import run_matching
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place

pytestmark = pytest.mark.usefixtures("english")

FLAG = "general offer: check it contains what is needed"


@pytest.fixture
def baby_formula(app):
    """A group's "Baby formula" need in Kramatorsk; a donor's general food offer and a baby
    food offer, both in Sloviansk (the general one a little nearer), same radius."""
    kramatorsk = make_place("Kramatorsk test", lat=48.738, lon=37.584, oblast="Donetsk")
    sloviansk = make_place("Sloviansk test", lat=48.853, lon=37.605, oblast="Donetsk")
    group = make_org("Kramatorsk Aid")
    organizer = make_user(Role.ORGANIZER, org=group, language="en")
    donor = make_org("Donor collective", kind=OrgKind.DONOR_COLLECTIVE)
    donor_user = make_user(Role.DONOR, org=donor, language="en")
    need = make_need(
        group, organizer, kramatorsk, title="Baby formula", category="baby-food", quantity=150
    )
    general = make_offer(
        donor,
        donor_user,
        sloviansk,
        title="Mixed food products from a supermarket donation",
        category="food",
        quantity=100,
        delivery_radius_km=100,
        lat=48.840,
        lon=37.600,
    )
    specific = make_offer(
        donor,
        donor_user,
        sloviansk,
        title="Baby formula and purees",
        category="baby-food",
        quantity=100,
        delivery_radius_km=100,
        lat=48.853,
        lon=37.605,
    )
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    return locals()


def test_a_general_offer_ranks_below_one_of_the_need_s_category_and_is_flagged(
    baby_formula, login_as
):
    world = baby_formula
    items = candidates_for_need(world["need"], world["coordinator"], limit=10)
    assert [i["offer_id"] for i in items] == [world["specific"].id, world["general"].id]
    specific, general = items
    assert specific["distance_km"] > general["distance_km"]  # nearer, and still below
    assert specific["explanation"]["facts"]["category_fit"] == "same"
    assert FLAG not in specific["explanation"]["text"]
    assert general["explanation"]["facts"]["category_fit"] == "general"
    assert general["explanation"]["text"].endswith(FLAG)
    assert general["explanation"]["parts"]["category_fit"] == 0  # "Food" is a root
    page = login_as(world["organizer"]).get(f"/needs/{world['need'].id}").get_data(as_text=True)
    assert page.count(FLAG) == 1


def test_a_run_proposes_both_and_the_donor_s_proposal_page_flags_the_general_one(
    baby_formula, login_as
):
    world = baby_formula
    run_matching(world["coordinator"])
    matches = {m.offer_id: m for m in db.session.scalars(select(Match))}
    general, specific = matches[world["general"].id], matches[world["specific"].id]
    assert specific.quantity == 100 and general.quantity == 50  # the better fit is used up first
    assert specific.score > general.score
    assert general.explanation["facts"]["category_fit"] == "general"
    assert specific.explanation["facts"]["category_fit"] == "same"
    client = login_as(world["donor_user"])
    page = client.get(f"/matches/{general.id}").get_data(as_text=True)
    assert FLAG in page
    assert FLAG not in client.get(f"/matches/{specific.id}").get_data(as_text=True)
