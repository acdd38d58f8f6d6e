"""A shipment's route through hubs (aidmatch/legs): donor → border hub → warehouse → group,
each leg confirmed by its receiver on the match page or through the API; a shortfall recorded
on the leg where it happened and released from the need at the end; refusals; the coordinators
told once of a leg not confirmed in time; hubs see the match, never the group's point, note,
contact or the sides' notes; the transparency page counts the delivery once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from aidmatch.auth.models import Language
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import run_now
from aidmatch.legs import operations as legs
from aidmatch.legs.models import Leg, LegStatus
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.notify.models import Notification
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role, role_for_org_kind
from tests.factories import make_org, make_user
from tests.match_helpers import assert_invariant, make_cast, refused

GROUP_CONTACT = "Signal +380 67 555 0199, ask for Snowbarrow"
DELIVERY_NOTE = "Quillfeather shed behind the school"
SHIPPING_NOTE = "Marrowgate courier van"
BORDER_CONTACT = "Border hub gate 4, Trellwick"
WAREHOUSE_CONTACT = "Warehouse ramp 2, Dovecrest"


class World:
    def __init__(self):
        self.cast = make_cast(
            need_quantity=40, delivery_note=DELIVERY_NOTE, lat=48.461234, lon=35.041234
        )
        self.cast.group.contact = GROUP_CONTACT
        self.border = make_org("Border hub Krakovets", kind=OrgKind.HUB, contact=BORDER_CONTACT)
        self.warehouse = make_org("Dnipro warehouse", kind=OrgKind.HUB, contact=WAREHOUSE_CONTACT)
        self.border_man = make_user(Role.DONOR, org=self.border, language=Language.EN)
        self.keeper = make_user(Role.DONOR, org=self.warehouse, language=Language.EN)
        cast = self.cast
        self.match = ops.claim_need(cast.need, cast.donor, 20, offer=cast.offer)
        ops.approve(self.match, cast.coordinator)
        ops.ship(self.match, cast.donor, SHIPPING_NOTE)
        db.session.commit()


@pytest.fixture
def world(app):
    return World()


def test_hub_members_are_donors():
    assert role_for_org_kind(OrgKind.HUB) == Role.DONOR


def test_three_legs_leg_by_leg_on_the_page_one_short(world, client, switch):
    w, cast, match = world, world.cast, world.match
    # The donor hands 20 over to the border hub.
    switch(cast.donor)
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "Route of the goods" in page and f"Held by {cast.donor_org.name}" in page
    response = client.post(
        f"/matches/{match.id}/legs",
        data={"to_org_id": w.border.id, "quantity_sent": "20", "carrier": "Nova Poshta"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    first = db.session.scalars(select(Leg).where(Leg.match_id == match.id)).one()
    assert (first.position, first.from_org_id, first.to_org_id) == (
        1,
        cast.donor_org.id,
        w.border.id,
    )
    # The hub is told, its home page points to the match; it sees where the goods are and
    # confirms 20.
    switch(w.border_man)
    home = client.get("/").get_data(as_text=True)
    assert "1 hand-off is on its way to you" in home and f"/matches/{match.id}#route" in home
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "On the way to Border hub Krakovets since" in page
    response = client.post(f"/legs/{first.id}/confirm", data={"quantity_received": "20"})
    assert response.status_code == 302, response.get_data(as_text=True)
    # On to the warehouse: 18 arrive (2 lost on this leg).
    response = client.post(
        f"/matches/{match.id}/legs", data={"to_org_id": w.warehouse.id, "quantity_sent": "20"}
    )
    assert response.status_code == 302
    second = db.session.scalars(select(Leg).where(Leg.position == 2)).one()
    switch(w.keeper)
    response = client.post(
        f"/legs/{second.id}/confirm", data={"quantity_received": "18", "note": "two boxes torn"}
    )
    assert response.status_code == 302
    db.session.refresh(second)
    assert second.shortfall == 2 and second.status == LegStatus.RECEIVED
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "Held by Dnipro warehouse" in page and "2 lost on this leg" in page
    # The next leg carries at most what arrived: 20 is refused, what was typed kept.
    response = client.post(
        f"/matches/{match.id}/legs",
        data={"to_org_id": cast.group.id, "quantity_sent": "20", "carrier": "Volunteer Taras"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "At most 18 arrived here to be sent on." in page and "Volunteer Taras" in page
    response = client.post(
        f"/matches/{match.id}/legs", data={"to_org_id": cast.group.id, "quantity_sent": "18"}
    )
    assert response.status_code == 302
    third = db.session.scalars(select(Leg).where(Leg.position == 3)).one()
    # The group confirms the last leg: the match is delivered with 18.
    switch(cast.organizer)
    response = client.post(f"/legs/{third.id}/confirm", data={"quantity_received": "18"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(match)
    need = cast.need
    db.session.refresh(need)
    assert match.status == MatchStatus.DELIVERED and match.quantity_received == 18
    assert match.discrepancy
    assert (need.pledged, need.delivered) == (18, 18)  # the 2 lost went back to the need
    assert_invariant()
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert f"Delivered to {cast.group.name}" in page and "2 lost on the way" in page
    # Each confirmed leg told the members of its two organizations (never the confirmer).
    told = (
        db.session.execute(select(Notification.user_id).where(Notification.kind == "leg_confirmed"))
        .scalars()
        .all()
    )
    assert sorted(told) == sorted([cast.donor.id, w.border_man.id, w.keeper.id])
    handed = (
        db.session.execute(
            select(Notification.user_id).where(Notification.kind == "leg_handed_over")
        )
        .scalars()
        .all()
    )
    assert sorted(handed) == sorted([w.border_man.id, w.keeper.id, cast.organizer.id])

    # The transparency page counts the three-leg shipment as one delivery.
    db.session.execute(
        update(Match).where(Match.id == match.id).values(delivered_at=utcnow() - timedelta(days=30))
    )
    db.session.commit()
    summary = client.get("/api/v1/transparency/summary").get_json()
    assert summary["totals"]["deliveries"] == 1


def test_refusals(world):
    w, cast, match = world, world.cast, world.match
    # Only the holder hands over; not to itself; not to an organization that is no hub.
    refused(403, legs.hand_over, match, w.keeper, w.border.id, 5)
    refused(422, legs.hand_over, match, cast.donor, cast.donor_org.id, 5)
    other = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    refused(422, legs.hand_over, match, cast.donor, other.id, 5)
    refused(422, legs.hand_over, match, cast.donor, w.border.id, 21)
    leg = legs.hand_over(match, cast.donor, w.border.id, 20)
    # One leg on the way at a time.
    refused(409, legs.hand_over, match, cast.donor, w.warehouse.id, 5)
    # Only the receiver confirms; no more than was sent; once.
    refused(403, legs.confirm, leg, cast.donor, 20)
    refused(403, legs.confirm, leg, w.keeper, 20)
    refused(403, legs.confirm, leg, cast.coordinator, 20)
    refused(422, legs.confirm, leg, w.border_man, 21)
    legs.confirm(leg, w.border_man, 20)
    refused(409, legs.confirm, leg, w.border_man, 20)
    db.session.commit()
    assert_invariant()


def test_a_match_not_shipped_takes_no_leg(app):
    cast = make_cast()
    hub = make_org(kind=OrgKind.HUB)
    match = ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    ops.approve(match, cast.coordinator)
    refused(409, legs.hand_over, match, cast.donor, hub.id, 5)


def test_a_late_leg_is_flagged_and_told_to_coordinators_once(world, client, switch):
    w, cast, match = world, world.cast, world.match
    legs.hand_over(match, cast.donor, w.border.id, 20)
    db.session.commit()
    now = utcnow()
    run_now("legs.overdue", now + timedelta(hours=71))
    assert (
        db.session.scalar(select(Notification.id).where(Notification.kind == "leg_overdue")) is None
    )
    run_now("legs.overdue", now + timedelta(hours=73))
    run_now("legs.overdue", now + timedelta(hours=80))
    told = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "leg_overdue")
    ).all()
    assert told == [cast.coordinator.id]
    db.session.execute(update(Leg).values(handed_over_at=now - timedelta(hours=73)))
    db.session.commit()
    switch(cast.coordinator)
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "not confirmed in time" in page
    home = client.get("/").get_data(as_text=True)
    assert "1 hand-off was not confirmed in time" in home


def test_hubs_see_the_match_but_not_the_group_point_note_contact(world, client, switch):
    w, cast, match = world, world.cast, world.match
    leg = legs.hand_over(match, cast.donor, w.border.id, 20, carrier="Nova", tracking="NP 77 31")
    legs.confirm(leg, w.border_man, 20)
    legs.hand_over(match, w.border_man, w.warehouse.id, 20, tracking="WH-4411")
    db.session.commit()
    switch(w.keeper)
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert response_ok(page)
    for secret in (
        GROUP_CONTACT, DELIVERY_NOTE, SHIPPING_NOTE, "48.461234", "35.041234",
        BORDER_CONTACT, "NP 77 31",  # the first leg is not the warehouse's
    ):  # fmt: skip
        assert secret not in page, secret
    assert "WH-4411" in page and WAREHOUSE_CONTACT in page  # its own leg
    assert "Conversation" not in page
    # The border hub sees both its legs' details; the donor the first; the group neither.
    switch(w.border_man)
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "NP 77 31" in page and "WH-4411" in page and GROUP_CONTACT not in page
    switch(cast.organizer)
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "NP 77 31" not in page and WAREHOUSE_CONTACT not in page
    # An organization on no leg does not see the match at all.
    stranger = make_user(Role.DONOR, org=make_org(kind=OrgKind.HUB), language=Language.EN)
    db.session.commit()
    switch(stranger)
    assert client.get(f"/matches/{match.id}").status_code == 404


def response_ok(page: str) -> bool:
    return "Route of the goods" in page


def test_api(world, api_client):
    w, cast, match = world, world.cast, world.match
    donor = api_client(cast.donor)
    hub = api_client(w.border_man)
    group = api_client(cast.organizer)
    stranger = api_client(make_user(Role.DONOR, org=make_org(kind=OrgKind.HUB)))
    assert hub.get(f"/matches/{match.id}/legs").status_code == 404  # not on the route yet
    response = donor.post(
        f"/matches/{match.id}/legs",
        json={"to_org_id": w.border.id, "quantity_sent": 20, "tracking": "API-1"},
    )
    assert response.status_code == 201, response.get_json()
    leg_id = response.get_json()["id"]
    assert stranger.get(f"/matches/{match.id}/legs").status_code == 404
    assert group.post(f"/legs/{leg_id}/confirm", json={"quantity_received": 20}).status_code == 403
    too_many = hub.post(f"/legs/{leg_id}/confirm", json={"quantity_received": 25})
    assert too_many.status_code == 422
    done = hub.post(f"/legs/{leg_id}/confirm", json={"quantity_received": 19})
    assert done.status_code == 200 and done.get_json()["shortfall"] == 1
    assert hub.post(f"/legs/{leg_id}/confirm", json={"quantity_received": 19}).status_code == 409
    response = hub.post(
        f"/matches/{match.id}/legs", json={"to_org_id": cast.group.id, "quantity_sent": 19}
    )
    assert response.status_code == 201
    last = response.get_json()["id"]
    route = group.get(f"/matches/{match.id}/legs").get_json()
    assert route["holder"]["id"] == w.border.id and len(route["items"]) == 2
    assert route["items"][0]["tracking"] is None  # the first leg is not the group's
    assert route["items"][1]["to_contact"] == GROUP_CONTACT
    assert group.post(f"/legs/{last}/confirm", json={"quantity_received": 19}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == MatchStatus.DELIVERED
    assert_invariant()
    seen = hub.get(f"/matches/{match.id}").get_json()
    assert seen["delivery_note"] is None and seen["shipped_note"] is None
    assert "contact" not in seen and "contacts" not in seen
    assert seen["need"].get("delivery_note") is None


def test_the_group_confirms_a_routed_shipment_through_its_last_leg(world):
    w, cast, match = world, world.cast, world.match
    leg = legs.hand_over(match, cast.donor, w.border.id, 20)
    # The goods are at the hub or on the way: the group's direct confirmation is refused.
    refused(409, ops.confirm_delivery, match, cast.organizer, 20)
    legs.confirm(leg, w.border_man, 20)
    last = legs.hand_over(match, w.border_man, cast.group.id, 20)
    refused(409, ops.confirm_delivery, match, cast.organizer, 20)
    legs.confirm(last, cast.organizer, 20)
    assert match.status == MatchStatus.DELIVERED and match.quantity_received == 20
    db.session.commit()
    assert_invariant()


def _kyiv(moment) -> str:
    """A UTC moment as the browser's datetime-local box sends it in Europe/Kyiv."""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/Kyiv")).strftime("%Y-%m-%dT%H:%M")


def test_the_hand_over_time_typed_on_the_page(world, client, switch):
    w, cast, match = world, world.cast, world.match
    shipped = utcnow().replace(second=0, microsecond=0) - timedelta(days=3)
    db.session.execute(update(Match).where(Match.id == match.id).values(shipped_at=shipped))
    db.session.commit()
    switch(cast.donor)
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert 'name="handed_over_at"' in page and 'type="datetime-local"' in page
    path = f"/matches/{match.id}/legs"
    form = {"to_org_id": w.border.id, "quantity_sent": "20", "carrier": "Van 7"}

    # Before the match was shipped, in the future, or no time at all: refused, each with its
    # words, what was typed kept; no leg.
    for typed, words in (
        (_kyiv(shipped - timedelta(hours=2)), "cannot be before the match was shipped"),
        (_kyiv(utcnow() + timedelta(hours=1)), "cannot be in the future"),
        ("yesterday", "Enter a date and time, like 2026-12-06 14:30."),
    ):
        response = client.post(path, data={**form, "handed_over_at": typed})
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and words in html, typed
        assert f'value="{typed}"' in html and 'value="Van 7"' in html
    assert db.session.scalars(select(Leg)).all() == []

    # Two days ago, typed in Kyiv's time: stored as that moment (UTC), shown on the route.
    when = shipped + timedelta(days=1)
    response = client.post(path, data={**form, "handed_over_at": _kyiv(when)})
    assert response.status_code == 302, response.get_data(as_text=True)
    leg = db.session.scalars(select(Leg)).one()
    assert leg.handed_over_at == when
    switch(w.border_man)
    legs.confirm(leg, w.border_man, 20)
    db.session.commit()
    arrived = db.session.get(Leg, leg.id).confirmed_at
    # The next leg cannot have left the hub before the goods arrived there.
    response = client.post(
        path,
        data={
            "to_org_id": cast.group.id,
            "quantity_sent": "20",
            "handed_over_at": _kyiv(arrived - timedelta(hours=1)),
        },
    )
    assert response.status_code == 422
    assert "cannot be before the goods arrived here" in response.get_data(as_text=True)
    # Left empty: now, as before.
    response = client.post(
        path, data={"to_org_id": cast.group.id, "quantity_sent": "20", "handed_over_at": ""}
    )
    assert response.status_code == 302
    last = db.session.scalars(select(Leg).where(Leg.position == 2)).one()
    assert last.handed_over_at >= arrived


def test_the_api_refuses_a_hand_over_before_the_shipping_or_in_the_future(world, api_client):
    w, cast, match = world, world.cast, world.match
    donor = api_client(cast.donor)
    path = f"/matches/{match.id}/legs"
    body = {"to_org_id": w.border.id, "quantity_sent": 20}
    for moment in (match.shipped_at - timedelta(hours=1), utcnow() + timedelta(hours=1)):
        response = donor.post(path, json={**body, "handed_over_at": moment.isoformat()})
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["error"]["fields"].keys() == {"handed_over_at"}
    response = donor.post(path, json={**body, "handed_over_at": utcnow().isoformat()})
    assert response.status_code == 201, response.get_json()


def test_each_leg_is_confirmed_by_its_receiver_through_the_slip_too(world, client, switch):
    from tests.test_receipts import make_slip

    w, cast, match = world, world.cast, world.match
    slip = f"/matches/{match.id}/slip"
    switch(w.border_man)
    assert client.get(slip).status_code == 404  # nothing on its way to the hub yet
    switch(cast.donor)
    receipt_path = make_slip(client, match)
    first = legs.hand_over(match, cast.donor, w.border.id, 20)
    db.session.commit()

    # The hub receives the first leg: the slip's facts and the hand-off to confirm, never the
    # receipt link (its QR code signs for the group), the group's point, note or contact.
    switch(w.border_man)
    page = client.get(slip).get_data(as_text=True)
    assert match.need.title in page and "Confirm this hand-off" in page
    assert f'action="/legs/{first.id}/confirm"' in page
    assert receipt_path not in page and "<svg" not in page and "/r/" not in page
    for secret in (GROUP_CONTACT, DELIVERY_NOTE, "461234", SHIPPING_NOTE):
        assert secret not in page
    assert client.post(slip, data={}).status_code == 404  # nor may it make the slip
    response = client.post(f"/legs/{first.id}/confirm", data={"quantity_received": "19"})
    assert response.status_code == 302
    db.session.refresh(first)
    assert first.status == LegStatus.RECEIVED and first.shortfall == 1
    assert client.get(slip).status_code == 404  # confirmed: nothing more to do there

    # The last leg goes to the group, whose member confirms it on the slip: delivered.
    last = legs.hand_over(match, w.border_man, cast.group.id, 19)
    db.session.commit()
    switch(cast.organizer)
    page = client.get(slip).get_data(as_text=True)
    assert f'action="/legs/{last.id}/confirm"' in page and "<svg" in page
    response = client.post(f"/legs/{last.id}/confirm", data={"quantity_received": "19"})
    assert response.status_code == 302
    db.session.expire_all()
    done = db.session.get(Match, match.id)
    assert (done.status, done.quantity_received) == (MatchStatus.DELIVERED, 19)
    page = client.get(slip).get_data(as_text=True)
    assert "Confirm this hand-off" not in page
    assert_invariant()


def test_a_receipt_link_signs_the_last_hand_off_into_the_group(world, client):
    """The slip's receipt link, for goods routed through hubs: while they are between hubs its
    page says so and offers no form; once the last hub hands them over to the group, signing it
    receives that leg with what the receipt says and delivers the match, once."""
    from aidmatch.receipts.operations import link_token, make_link

    w, cast, match = world, world.cast, world.match
    token = link_token(make_link(match, cast.donor))
    first = legs.hand_over(match, cast.donor, w.border.id, 20)
    legs.confirm(first, w.border_man, 20)
    db.session.commit()
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert "not yet handed over to the group" in page and 'name="quantity_received"' not in page
    last = legs.hand_over(match, w.border_man, cast.group.id, 20)
    db.session.commit()
    form = {"idempotency_key": "kept", "condition": "less", "quantity_received": "18",
            "signer_name": "Petro"}  # fmt: skip
    response = client.post(f"/r/{token}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert (last.status, last.quantity_received) == (LegStatus.RECEIVED, 18)
    assert (match.status, match.quantity_received) == (MatchStatus.DELIVERED, 18)
    assert client.post(f"/r/{token}", data=form).status_code == 302  # the same sending: once
    db.session.expire_all()
    assert match.quantity_received == 18
    assert_invariant()
