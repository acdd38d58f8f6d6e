"""Posting, editing, cancelling and expiring needs, through the operations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.extensions import db
from aidmatch.geo import haversine_km
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.needs.operations import cancel_need, create_need, expire_needs, update_need
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.refusals import Refusal
from aidmatch.web.errors import refusal_status
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_place


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_post_need_sets_points_and_audits(app):
    user = make_user(Role.ORGANIZER)
    place = make_place(lat=49.7, lon=37.6)
    need = make_need(user.organization, user, place=place, lat=49.712345, lon=37.612345)
    assert need.status == NeedStatus.OPEN
    assert (need.lat, need.lon) == (49.712345, 37.612345)
    # The public point is a grid cell centre, different from the exact point but close to it.
    assert (need.public_lat, need.public_lon) != (need.lat, need.lon)
    assert haversine_km(need.lat, need.lon, need.public_lat, need.public_lon) < 8
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_id == need.id))
    assert event.action == "need.create" and event.after["quantity"] == 40


def test_point_defaults_to_the_place(app):
    user = make_user(Role.ORGANIZER)
    place = make_place(lat=48.5, lon=35.0)
    need = make_need(user.organization, user, place=place)
    assert (need.lat, need.lon) == (48.5, 35.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", 0),
        ("quantity", -5),
        ("quantity", 2.5),
        ("quantity", 10**9),
        ("quantity", "many"),
        ("title", ""),
        ("title", "x" * 100_000),
        ("category", "no-such-category"),
        ("urgency", "whenever"),
        ("needed_by", date.today() - timedelta(days=1)),
        ("needed_by", "31.12.2026"),
        ("place_id", 987654321),
        ("lat", 123.0),
    ],
)
def test_bad_input_is_refused_per_field_and_writes_nothing(app, field, value):
    user = make_user(Role.ORGANIZER)
    needs_before, events_before = _count(Need), _count(AuditEvent)
    extra = {"lon": 36.0} if field == "lat" else {}
    with pytest.raises(Refusal) as caught:
        make_need(user.organization, user, **{field: value, **extra})
    assert refusal_status(caught.value) == 422
    assert field in caught.value.fields
    assert (_count(Need), _count(AuditEvent)) == (needs_before, events_before)


def test_only_frontline_groups_post_needs(app):
    donor_org = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    with pytest.raises(Refusal) as caught:
        create_need(donor_org, {"title": "x"}, None)
    assert refusal_status(caught.value) == 403


def test_quantity_cannot_drop_below_pledged(app):
    user = make_user(Role.ORGANIZER)
    need = make_need(user.organization, user, quantity=40)
    need.pledged = 25  # as if matches held 25
    db.session.flush()
    with pytest.raises(Refusal) as caught:
        update_need(need, {"quantity": 20}, user)
    assert refusal_status(caught.value) == 422
    assert "25" in caught.value.message
    assert need.quantity == 40
    update_need(need, {"quantity": 25, "title": "Fewer tourniquets"}, user)
    assert (need.quantity, need.title) == (25, "Fewer tourniquets")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "need.update")).one()
    assert event.before == {"quantity": 40, "title": "Tourniquets for the evacuation team"}


def test_cancel_and_no_edit_after(app):
    user = make_user(Role.ORGANIZER)
    need = make_need(user.organization, user)
    cancel_need(need, user, "covered elsewhere")
    assert need.status == NeedStatus.CANCELLED
    with pytest.raises(Refusal) as caught:
        update_need(need, {"title": "again"}, user)
    assert refusal_status(caught.value) == 409
    with pytest.raises(Refusal):
        cancel_need(need, user)


def test_expire_past_needed_by(app):
    user = make_user(Role.ORGANIZER)
    soon = date.today() + timedelta(days=2)
    need = make_need(user.organization, user, needed_by=soon)
    other = make_need(user.organization, user)
    assert expire_needs(today=soon) == 0
    assert expire_needs(today=soon + timedelta(days=1)) == 1
    db.session.refresh(need)
    db.session.refresh(other)
    assert need.status == NeedStatus.EXPIRED and other.status == NeedStatus.OPEN
    assert expire_needs(today=soon + timedelta(days=1)) == 0


def test_flask_expire_command(app):
    from aidmatch.needs.models import Need as NeedModel

    user = make_user(Role.ORGANIZER)
    need = make_need(user.organization, user, needed_by=date.today() + timedelta(days=1))
    need.needed_by = date.today() - timedelta(days=1)  # time passed
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["expire"])
    assert result.exit_code == 0, result.output
    assert "Expired 1 needs and 0 offers." in result.output
    assert db.session.get(NeedModel, need.id).status == NeedStatus.EXPIRED
