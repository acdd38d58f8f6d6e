"""flask seed-demo: what it makes, where, in which quantities, and that it makes it once.

Seeding hashes ~50 passwords with Argon2 (seconds), so this module seeds one database of its
own once (tests/demo_world.py) and the tests read it; only the determinism test seeds again,
with a cheap hash.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.models import User
from aidmatch.categories.models import Category, Unit
from aidmatch.demo.data import HUBS, ITEMS
from aidmatch.demo.deliveries import DELIVERIES, seed_deliveries
from aidmatch.demo.field import RECURRING_BY, VOUCHED, VOUCHERS, seed_field
from aidmatch.demo.funds import COLLECTIVE, FUNDRAISER, MONTHS
from aidmatch.demo.seeding import (
    ADMIN_EMAIL,
    COORDINATOR_EMAIL,
    DEMO_PASSWORD,
    demo_email,
    demo_logins,
    seed_demo,
)
from aidmatch.extensions import db
from aidmatch.geo import coarse_point, haversine_km
from aidmatch.legs.models import Leg, LegStatus
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.money.models import (
    Cadence,
    Fundraiser,
    MoneyPledge,
    NeedCost,
    PledgeStatus,
    SpendingReport,
)
from aidmatch.needs.models import URGENCY_RANK, Need, Urgency
from aidmatch.notify.models import Notification
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import Organization, OrgKind, Vouch
from aidmatch.orgs.vouches import is_vouched
from aidmatch.permissions import Role
from aidmatch.places.models import Place
from aidmatch.recurring.models import Every, Recurrence
from aidmatch.runs.models import MatchingRun, RunStatus
from tests.demo_world import count, fingerprint, seeded_database

FRONT_OBLASTS = {
    "Kharkiv Oblast",
    "Donetsk Oblast",
    "Zaporizhzhia Oblast",
    "Dnipropetrovsk Oblast",
    "Sumy Oblast",
    "Kherson Oblast",
    "Mykolaiv Oblast",
}
MAX_BY_UNIT = {Unit.PCS: 5_000, Unit.KG: 50_000, Unit.L: 100_000, Unit.EUR: 100_000}


@pytest.fixture(scope="module")
def seeded(template_database, tmp_path_factory):
    """This module's own database, seeded once through the CLI (tests/demo_world.py)."""
    yield from seeded_database(template_database, tmp_path_factory)


@pytest.fixture
def demo(seeded):
    """The seeded database, inside an app context."""
    with seeded.app.app_context():
        yield seeded
        db.session.remove()


def test_seed_demo_reports_what_it_made_and_the_logins(demo):
    assert demo.exit_code == 0, demo.output
    assert "Demo data created" in demo.output
    assert DEMO_PASSWORD in demo.output
    for email, _role, _org in demo_logins():
        assert email in demo.output
    assert COORDINATOR_EMAIL in demo.output and ADMIN_EMAIL in demo.output
    assert demo_email("kupiansk-medics") in demo.output
    assert f"Public fundraiser page, no login needed: /f/{FUNDRAISER['slug']}" in demo.output


def test_counts_are_in_the_expected_ranges(demo):
    kinds = dict(
        db.session.execute(
            select(Organization.kind, func.count()).group_by(Organization.kind)
        ).all()
    )
    frontline = kinds.get(OrgKind.FRONTLINE_GROUP, 0)
    donor_side = kinds.get(OrgKind.DONOR_COLLECTIVE, 0) + kinds.get(OrgKind.SUPPLY_COLLECTIVE, 0)
    assert 25 <= frontline <= 35
    assert 15 <= donor_side <= 25
    assert kinds.get(OrgKind.DONOR_COLLECTIVE) and kinds.get(OrgKind.SUPPLY_COLLECTIVE)
    assert 250 <= count(Need) <= 350
    assert 120 <= count(Offer) <= 180
    assert kinds.get(OrgKind.HUB) == len(HUBS)
    assert count(User) == frontline + donor_side + len(HUBS) + 2
    unverified = db.session.scalar(select(func.count()).where(Organization.verified_at.is_(None)))
    assert 1 <= unverified <= 10  # something for coordinators to review


def test_one_member_per_organization_and_the_staff(demo):
    staff = dict(
        db.session.execute(
            select(User.email, User.role).where(User.organization_id.is_(None))
        ).all()
    )
    assert staff == {COORDINATOR_EMAIL: Role.COORDINATOR, ADMIN_EMAIL: Role.ADMIN}
    for org in db.session.scalars(select(Organization)):
        assert len(org.members) == 1, org
        expected = Role.ORGANIZER if org.kind == OrgKind.FRONTLINE_GROUP else Role.DONOR
        assert org.members[0].role == expected
        assert org.members[0].email.endswith("@demo.aidmatch.org")
        assert org.contact  # a person and a phone number


def test_organizations_sit_where_they_should(demo):
    orgs = list(db.session.scalars(select(Organization)))
    front = [o for o in orgs if o.kind == OrgKind.FRONTLINE_GROUP]
    assert all(o.place.country == "UA" and o.place.oblast in FRONT_OBLASTS for o in front)
    assert {o.place.oblast for o in front} == FRONT_OBLASTS
    donors = [o for o in orgs if o.kind != OrgKind.FRONTLINE_GROUP]
    assert {o.place.country for o in donors} == {"UA", "DE", "PL", "CZ", "AT"}
    assert {"Kyiv", "Lviv", "Dnipro"} <= {o.place.name for o in donors if o.place.country == "UA"}
    names = {o.name: o for o in orgs}
    assert names["Kupiansk Volunteer Medics"].place.name == "Kupiansk"
    assert names["Berlin Ukraine Support e.V."].place.name == "Berlin"


def test_needs_are_realistic(demo):
    needs = list(db.session.scalars(select(Need)))
    parents = set(
        db.session.scalars(select(Category.parent_id).where(Category.parent_id.is_not(None)))
    )
    for need in needs:
        category = need.category
        assert need.quantity > 0
        assert category.id not in parents, need  # asked for in a leaf category
        lo, hi, step = ITEMS[category.slug].need_qty
        assert lo <= need.quantity <= hi and (need.quantity - lo) % step == 0, need
        assert need.quantity <= MAX_BY_UNIT[category.unit]
        assert need.organization.kind == OrgKind.FRONTLINE_GROUP
        assert need.created_by_id == need.organization.members[0].id
        assert need.urgency_rank == URGENCY_RANK[need.urgency]
        assert need.needed_by is None or need.needed_by > demo.today
        assert need.delivery_note and need.description
        assert (need.public_lat, need.public_lon) == coarse_point(need.lat, need.lon)[:2]
        assert haversine_km(need.lat, need.lon, need.place.lat, need.place.lon) < 3
        assert need.place_id == need.organization.place_id
    assert {n.urgency for n in needs} == set(Urgency)
    assert 0.05 <= sum(n.sensitive for n in needs) / len(needs) <= 0.25
    assert 0.3 <= sum(n.needed_by is not None for n in needs) / len(needs) <= 0.8
    assert {n.category.unit for n in needs} == set(Unit)
    assert len({n.category_id for n in needs}) >= 40  # across the categories
    assert len({n.organization_id for n in needs}) == _count_front()


def _count_front() -> int:
    return db.session.scalar(
        select(func.count()).where(Organization.kind == OrgKind.FRONTLINE_GROUP)
    )


def test_offers_are_realistic(demo):
    offers = list(db.session.scalars(select(Offer)))
    for offer in offers:
        assert offer.organization.kind != OrgKind.FRONTLINE_GROUP
        assert offer.quantity > 0 and offer.quantity <= MAX_BY_UNIT[offer.category.unit]
        radius = offer.delivery_radius_km
        assert radius is None or 30 <= radius <= 300
        assert offer.available_until is None or offer.available_until > demo.today
        assert (offer.public_lat, offer.public_lon) == coarse_point(offer.lat, offer.lon)[:2]
        assert haversine_km(offer.lat, offer.lon, offer.place.lat, offer.place.lon) < 3
    anywhere = sum(o.delivery_radius_km is None for o in offers)
    assert 0.1 * len(offers) <= anywhere <= 0.7 * len(offers)
    assert any(o.category.parent_id is None and o.category.children for o in offers)
    # Some needs have an offer of their category (or its parent) within reach.
    assert len({o.category_id for o in offers}) >= 30


def test_every_need_and_offer_is_audited_by_its_poster(demo):
    for model, action in ((Need, "need.create"), (Offer, "offer.create")):
        rows = db.session.execute(
            select(model.id, model.created_by_id, AuditEvent.actor_id).join(
                AuditEvent,
                (AuditEvent.object_id == model.id)
                & (AuditEvent.object_type == model.__tablename__)
                & (AuditEvent.action == action),
            )
        ).all()
        assert len(rows) == count(model)
        assert all(created_by == actor for _id, created_by, actor in rows)


def test_the_demo_runs_matching_once_so_the_review_queue_is_not_empty(demo):
    run = db.session.scalar(select(MatchingRun))
    assert run is not None and run.status == RunStatus.FINISHED and run.proposals > 0
    assert f"Matching run #{run.id}: finished" in demo.output
    pending = db.session.scalar(
        select(func.count()).select_from(Match).where(Match.status == MatchStatus.PENDING)
    )
    assert pending == run.proposals


def test_the_transparency_page_shows_the_demo_deliveries(demo):
    delivered = db.session.scalars(
        select(Match).where(Match.status == MatchStatus.DELIVERED).order_by(Match.id)
    ).all()
    assert len(delivered) == DELIVERIES
    assert f"{DELIVERIES} delivered matches" in demo.output
    for match in delivered:  # the whole way through the verbs, each step audited
        actions = set(
            db.session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.object_type == "matches", AuditEvent.object_id == match.id
                )
            )
        )
        assert {"match.claim", "match.approve", "match.ship", "match.confirm_delivery"} <= actions
        assert match.quantity_received == match.quantity and match.offer_id is not None
        assert match.need.created_at < match.created_at < match.shipped_at < match.delivered_at
    db.session.rollback()
    page = demo.app.test_client().get("/transparency")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Nothing has been delivered yet" not in html
    assert f"<dt>Deliveries</dt><dd>{DELIVERIES}</dd>" in html
    summary = demo.app.test_client().get("/api/v1/transparency/summary").get_json()
    assert summary["totals"]["deliveries"] == DELIVERIES
    csv = demo.app.test_client().get("/transparency/ledger.csv").get_data(as_text=True)
    assert len(csv.strip().splitlines()) == 1 + DELIVERIES  # the header and each delivery


def test_a_second_run_adds_nothing(demo):
    models = (Organization, User, Need, Offer, AuditEvent, MatchingRun, Match, Notification)
    models += (Leg, Recurrence, MoneyPledge, SpendingReport, Fundraiser, Vouch)
    before = [count(m) for m in models]
    result = demo.app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "already exists" in result.output and "nothing added" in result.output
    assert COORDINATOR_EMAIL in result.output and DEMO_PASSWORD in result.output
    assert f"/f/{FUNDRAISER['slug']}" in result.output
    db.session.expire_all()
    assert [count(m) for m in models] == before


def test_the_demo_logins_work(demo):
    for email in (COORDINATOR_EMAIL, demo_email("kupiansk-medics")):
        client = demo.app.test_client()
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email


def test_the_demo_is_the_same_every_time(app, seeded, monkeypatch):
    from aidmatch.auth import operations
    from aidmatch.auth.passwords import hash_password

    shared = hash_password(DEMO_PASSWORD)  # one hash for all, to keep this test quick
    monkeypatch.setattr(operations, "hash_password", lambda _password: shared)
    result = seed_demo(today=seeded.today)
    coordinator = db.session.scalar(select(User).where(User.email == COORDINATOR_EMAIL))
    seed_deliveries(coordinator, app.config["TRANSPARENCY_DELAY_DAYS"])
    assert seed_field(coordinator) is not None  # as the command: the offer it posts counts
    assert result.created and result.needs == count(Need)
    assert fingerprint(seeded.today) == seeded.fingerprint


def test_seed_demo_asks_for_the_gazetteer_first(app):
    db.session.execute(delete(Place))  # not committed: the command rolls it back
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "flask places load" in result.output
    db.session.rollback()
    assert count(Organization) == 0 and count(Place) > 0


def test_seed_demo_refuses_to_mix_with_existing_look_alikes(app):
    from tests.factories import make_org

    make_org(name="Kupiansk Volunteer Medics")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "Kupiansk Volunteer Medics" in result.output and "fresh database" in result.output
    assert count(Organization) == 1 and count(User) == 0


# What was merged lately, shown in the demo (demo/field.py, demo/funds.py).


def _actions(object_type: str, object_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.id)
        )
    )


def test_a_shipment_goes_through_the_hubs(demo):
    hubs = db.session.scalars(select(Organization).where(Organization.kind == OrgKind.HUB)).all()
    assert sorted(h.name for h in hubs) == sorted(spec.name for spec in HUBS)
    assert all(h.verified and h.members[0].role == Role.DONOR for h in hubs)
    legs = db.session.scalars(select(Leg).order_by(Leg.match_id, Leg.position)).all()
    assert len(legs) == 2 and legs[0].match_id == legs[1].match_id
    first, second = legs
    match = first.match
    assert match.status == MatchStatus.SHIPPED and match.offer.organization.place.country != "UA"
    assert first.status == LegStatus.RECEIVED and first.quantity_received == match.quantity
    assert second.status == LegStatus.ON_THE_WAY and second.from_org_id == first.to_org_id
    assert [first.to_org.name, second.to_org.name] == [spec.name for spec in HUBS]
    assert first.from_org_id == match.organization_id and second.tracking
    assert _actions("legs", first.id) == ["leg.hand_over", "leg.confirm"]
    assert _actions("legs", second.id) == ["leg.hand_over"]
    assert {"match.claim", "match.approve", "match.ship"} <= set(_actions("matches", match.id))


def test_a_collective_offers_something_every_month(demo):
    recurrence = db.session.scalar(select(Recurrence))
    offer = recurrence.offer
    assert recurrence.every == Every.MONTH and offer.organization.name == RECURRING_BY
    assert offer.organization.kind in (OrgKind.DONOR_COLLECTIVE, OrgKind.SUPPLY_COLLECTIVE)
    assert recurrence.paused_at is None and recurrence.stopped_at is None
    (period,) = recurrence.periods  # starting today, the offer itself is the first month
    assert period.offer_id == offer.id and period.starts_on <= demo.today < period.ends_on
    assert offer.available_until == period.ends_on - timedelta(days=1)
    assert "offer.repeat" in _actions("offers", offer.id)


def test_a_priced_need_has_a_monthly_pledge_and_a_fundraiser(demo):
    (pledge,) = db.session.scalars(select(MoneyPledge)).all()
    assert pledge.organization.name == COLLECTIVE and pledge.status == PledgeStatus.CONFIRMED
    assert pledge.cadence == Cadence.MONTHLY and pledge.months == MONTHS == len(pledge.installments)
    cost = db.session.get(NeedCost, pledge.need_id)
    assert cost is not None and cost.currency == pledge.currency
    assert pledge.amount_minor * MONTHS >= cost.amount_minor
    received = [i for i in pledge.installments if i.received_at is not None]
    assert [i.number for i in received] == [1]
    assert received[0].amount_received_minor == pledge.amount_minor
    (report,) = db.session.scalars(select(SpendingReport)).all()
    assert report.need_id == pledge.need_id and report.photo_width is None and report.items
    fundraiser = db.session.scalar(select(Fundraiser))
    assert fundraiser.slug == FUNDRAISER["slug"] and fundraiser.organization == pledge.organization
    assert len(fundraiser.needs) >= 2 and pledge.need in fundraiser.needs
    for need in fundraiser.needs:
        assert not need.sensitive and db.session.get(NeedCost, need.id) is not None
    db.session.rollback()
    page = demo.app.test_client().get(f"/f/{fundraiser.slug}")  # no account
    assert page.status_code == 200
    assert FUNDRAISER["title"] in page.get_data(as_text=True)


def test_an_unverified_group_is_vouched_for_and_donors_see_its_needs(demo):
    group = db.session.scalar(select(Organization).where(Organization.name == VOUCHED))
    assert group.verified_at is None and is_vouched(group)
    vouches = db.session.scalars(select(Vouch).where(Vouch.vouched_id == group.id)).all()
    assert sorted(v.voucher.name for v in vouches) == sorted(VOUCHERS)
    assert all(v.voucher.verified and v.withdrawn_at is None for v in vouches)
    assert {v.voucher.place.oblast for v in vouches} == {group.place.oblast}
    needs = db.session.scalars(select(Need).where(Need.organization_id == group.id)).all()
    shown = [n.id for n in needs if not n.sensitive]
    hidden = [n.id for n in needs if n.sensitive]
    assert shown
    db.session.rollback()
    donor = demo.app.test_client()
    login = {"email": demo_email("berlin-support"), "password": DEMO_PASSWORD}
    assert donor.post("/login", data=login).status_code == 302
    assert donor.get(f"/needs/{shown[0]}").status_code == 200
    for need_id in hidden:
        assert donor.get(f"/needs/{need_id}").status_code == 404
