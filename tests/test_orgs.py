"""Organizations: creation, verification by staff (audited), invite codes, their pages."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.models import User
from aidmatch.extensions import db
from aidmatch.orgs.models import Invite, Organization, OrgKind
from aidmatch.orgs.operations import (
    create_invite,
    create_organization,
    normalise_invite_code,
    redeem_invite,
    verify_organization,
)
from aidmatch.permissions import Role
from aidmatch.refusals import Refusal
from aidmatch.web.errors import refusal_status
from tests.factories import count, make_invite, make_org, make_user


def text(response) -> str:
    return response.get_data(as_text=True)


# Operations ---------------------------------------------------------------------------------


def test_create_organization(app):
    org = create_organization("  Sumy   Volunteers ", OrgKind.FRONTLINE_GROUP, contact=" +380 ")
    assert org.id is not None
    assert org.name == "Sumy Volunteers"
    assert org.name_key == "sumy volunteers"
    assert org.contact == "+380"
    assert not org.verified
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "org.create")).one()
    assert event.object_id == org.id and event.after["kind"] == "frontline_group"


def test_create_organization_verified_by_an_actor(app):
    coordinator = make_user(role=Role.COORDINATOR)
    org = create_organization("Vienna Aid", "donor_collective", actor=coordinator, verified=True)
    assert org.verified and org.verified_by_id == coordinator.id


def test_duplicate_organization_name_is_refused_case_insensitively(app):
    make_org(name="Kraków Helps")
    with pytest.raises(Refusal) as exc:
        create_organization("KRAKÓW  helps", OrgKind.DONOR_COLLECTIVE)
    assert exc.value.field == "name"
    assert refusal_status(exc.value) == 409
    assert count(Organization) == 1


@pytest.mark.parametrize(
    ("name", "kind", "field"),
    [
        ("", OrgKind.FRONTLINE_GROUP, "name"),
        ("X" * 201, OrgKind.FRONTLINE_GROUP, "name"),
        ("Fine", "army", "kind"),
    ],
)
def test_create_organization_bad_input(app, name, kind, field):
    with pytest.raises(Refusal) as exc:
        create_organization(name, kind)
    assert exc.value.field == field


def test_verify_organization_is_audited_with_before_and_after(app):
    coordinator = make_user(role=Role.COORDINATOR)
    org = make_org(verified=False)
    verify_organization(org, coordinator, reason="Called them")
    assert org.verified and org.verified_by_id == coordinator.id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "org.verify")).one()
    assert event.actor_id == coordinator.id
    assert event.object_type == "organizations" and event.object_id == org.id
    assert event.before["verified_at"] is None
    assert event.after["verified_at"] is not None
    assert event.after["verified_by_id"] == coordinator.id


def test_verifying_twice_is_refused(app):
    admin = make_user(role=Role.ADMIN)
    org = make_org(verified=False)
    verify_organization(org, admin, reason="Called them")
    first = org.verified_at
    with pytest.raises(Refusal) as exc:
        verify_organization(org, admin, reason="Called them")
    assert refusal_status(exc.value) == 409
    assert "already verified" in exc.value.message
    assert org.verified_at == first
    assert count(AuditEvent) == 1


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.DONOR])
def test_only_staff_verify(app, role):
    org = make_org(verified=False)
    with pytest.raises(Refusal) as exc:
        verify_organization(org, make_user(role=role), reason="x")
    assert refusal_status(exc.value) == 403
    assert not org.verified


def test_invite_codes_are_random_readable_and_expire_by_config(app):
    org = make_org()
    member = make_user(org=org)
    app.config["INVITE_TTL_DAYS"] = 3
    codes = {create_invite(org, member).code for _ in range(20)}
    assert len(codes) == 20
    assert all(re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", c) for c in codes)
    invite = db.session.scalars(select(Invite)).first()
    assert invite.expires_at - invite.created_at == timedelta(days=3)
    assert invite.created_by_id == member.id
    assert count(AuditEvent) == 20


def test_only_members_and_staff_make_invites(app):
    org = make_org()
    outsider = make_user(role=Role.DONOR)
    with pytest.raises(Refusal) as exc:
        create_invite(org, outsider)
    assert refusal_status(exc.value) == 403
    assert create_invite(org, make_user(role=Role.COORDINATOR)).organization_id == org.id


def test_redeem_invite_once(app):
    org = make_org()
    invite = make_invite(org)
    joiner = make_user(org=org)
    redeemed = redeem_invite(" " + invite.code.lower().replace("-", " "), user=joiner)
    assert redeemed is invite
    assert invite.used_at is not None and invite.used_by_id == joiner.id
    with pytest.raises(Refusal) as exc:
        redeem_invite(invite.code)
    assert exc.value.field == "invite_code"
    assert "already been used" in exc.value.message


def test_redeem_unknown_and_expired_and_empty(app):
    org = make_org()
    expired = make_invite(org, expires_in=timedelta(minutes=-1))
    with pytest.raises(Refusal, match="expired"):
        redeem_invite(expired.code)
    assert expired.used_at is None
    with pytest.raises(Refusal, match="not known"):
        redeem_invite("AAAA-BBBB-CCCC-DDDD")
    with pytest.raises(Refusal) as exc:
        redeem_invite("  ")
    assert exc.value.field == "invite_code"


def test_typed_codes_are_normalised():
    assert normalise_invite_code(" ab1o il2x-9zzz qq ") == "AB10-112X-9ZZZ-QQ"


# Pages --------------------------------------------------------------------------------------


def test_coordinator_reviews_oldest_first_and_verifies(client, login_as):
    coordinator = make_user(role=Role.COORDINATOR)
    now = datetime.now(UTC)
    newer = make_org(name="Newer Group", verified=False, created_at=now - timedelta(days=1))
    older = make_org(name="Older Group", verified=False, created_at=now - timedelta(days=5))
    make_org(name="Done Group", verified=True)
    make_user(org=older, email="lead@older.example.org", display_name="Lead Person")
    login_as(coordinator)

    response = client.get("/orgs/review")
    assert response.status_code == 302
    assert response.headers["Location"] == "/orgs?state=unverified"
    page = text(client.get("/orgs?state=unverified"))
    assert page.index("Older Group") < page.index("Newer Group")
    assert "Done Group" not in page
    assert "lead@older.example.org" in text(client.get(f"/orgs/{older.id}"))

    response = client.post(
        f"/orgs/{older.id}/verify",
        data={"verify-reason": "Known group", "verify-note": "Phone call with Lead, known from Y"},
    )
    assert response.status_code == 302
    assert older.verified and older.verified_by_id == coordinator.id
    assert not newer.verified
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "org.verify")).one()
    assert event.actor_id == coordinator.id and event.object_id == older.id
    assert event.before["verified_at"] is None and event.after["verified_at"]
    assert event.after["note"] == "Phone call with Lead, known from Y"
    page = text(client.get("/orgs?state=unverified"))
    assert "Older Group</a>" not in page
    assert "Newer Group</a>" in page


def test_verifying_twice_through_the_page_shows_a_message(client, login_as):
    admin = make_user(role=Role.ADMIN)
    org = make_org(verified=True)
    login_as(admin)
    response = client.post(
        f"/orgs/{org.id}/verify", data={"verify-reason": "again"}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "already verified" in text(response)


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.DONOR])
def test_members_may_not_review_or_verify(client, login_as, role):
    org = make_org(verified=False)
    login_as(make_user(role=role))
    assert client.get("/orgs/review").status_code == 403
    assert client.post(f"/orgs/{org.id}/verify").status_code == 403
    assert not org.verified
    assert count(AuditEvent) == 0


def test_anonymous_visitors_are_sent_to_login(client):
    org = make_org(verified=False)
    db.session.commit()
    response = client.get("/orgs/review")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/orgs/review")
    response = client.post(f"/orgs/{org.id}/verify")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert not db.session.get(Organization, org.id).verified
    assert client.get(f"/orgs/{org.id}").status_code == 302


def test_verify_unknown_organization_is_404(client, login_as):
    login_as(make_user(role=Role.COORDINATOR))
    assert client.post("/orgs/999999/verify").status_code == 404


def test_member_page_shows_contact_members_and_makes_invites(client, login_as):
    org = make_org(name="Izium Rescue", contact="Signal +380 99 111 2233")
    member = make_user(org=org, display_name="Ivan")
    make_user(org=org, display_name="Petro")
    login_as(member)
    page = text(client.get(f"/orgs/{org.id}"))
    assert "Signal +380 99 111 2233" in page
    assert "Ivan" in page and "Petro" in page

    response = client.post(f"/orgs/{org.id}/invites", follow_redirects=True)
    invite = db.session.scalars(select(Invite).where(Invite.organization_id == org.id)).one()
    assert invite.code in text(response)
    assert invite.created_by_id == member.id
    assert f"/register?invite={invite.code}" in text(client.get(f"/orgs/{org.id}"))


def test_used_and_expired_invites_are_not_listed(client, login_as):
    org = make_org()
    member = make_user(org=org)
    used = make_invite(org, created_by=member, code="USED-USED-USED-USED", used_by=member)
    old = make_invite(org, created_by=member, code="OLDD-OLDD-OLDD-OLDD", expires_in=-timedelta(1))
    login_as(member)
    page = text(client.get(f"/orgs/{org.id}"))
    assert used.code not in page and old.code not in page


def test_outsider_sees_a_verified_org_without_contact_members_or_invites(client, login_as):
    org = make_org(name="Open Group", contact="Signal +380 00 000 0000", verified=True)
    make_user(org=org, display_name="Hidden Member")
    outsider = make_user(role=Role.DONOR)
    login_as(outsider)
    page = text(client.get(f"/orgs/{org.id}"))
    assert "Open Group" in page
    assert "Signal +380 00 000 0000" not in page
    assert "Hidden Member" not in page
    assert "Make an invite code" not in page
    assert client.post(f"/orgs/{org.id}/invites").status_code == 403
    assert count(Invite) == 0


def test_outsider_may_not_see_an_unverified_org(client, login_as):
    org = make_org(verified=False)
    login_as(make_user(role=Role.DONOR))
    assert client.get(f"/orgs/{org.id}").status_code == 403


def test_staff_sees_contact_of_any_org(client, login_as):
    org = make_org(contact="Telegram @kupiansk_aid", verified=False)
    login_as(make_user(role=Role.COORDINATOR))
    assert "Telegram @kupiansk_aid" in text(client.get(f"/orgs/{org.id}"))


# Home page ----------------------------------------------------------------------------------


def test_staff_home_counts_organizations_waiting(client, login_as):
    make_org(verified=False)
    make_org(verified=False)
    make_org(verified=True)
    login_as(make_user(role=Role.COORDINATOR))
    page = text(client.get("/"))
    assert "2 organizations wait for verification" in page
    assert "/orgs?state=unverified" in page


def test_member_of_unverified_org_sees_that_it_waits(client, login_as):
    org = make_org(name="Pending Group", verified=False)
    login_as(make_user(org=org))
    assert "Pending Group waits for a coordinator" in text(client.get("/"))


def test_member_of_verified_org_has_nothing_waiting(client, login_as):
    login_as(make_user(org=make_org(verified=True)))
    page = text(client.get("/"))
    assert "waits for a coordinator" not in page
    assert "Nothing needs your attention" in page


# Races --------------------------------------------------------------------------------------


def _in_threads(app, n: int, work) -> list[str]:
    """Run work() in n threads at once, each in its own app context and session."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def run():
        with app.app_context():
            barrier.wait()
            try:
                work()
                db.session.commit()
                outcomes.append("ok")
            except Refusal as err:
                db.session.rollback()
                outcomes.append(err.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_an_invite_redeemed_at_once_by_many_is_used_once(app):
    org = make_org()
    code = make_invite(org).code
    db.session.commit()
    outcomes = _in_threads(app, 6, lambda: redeem_invite(code))
    assert sorted(outcomes) == ["invite_used"] * 5 + ["ok"]


def test_two_coordinators_verifying_at_once_verify_once(app):
    org_id = make_org(verified=False).id
    staff_ids = [make_user(role=Role.COORDINATOR).id for _ in range(4)]
    db.session.commit()
    ids = iter(staff_ids)
    lock = threading.Lock()

    def verify():
        with lock:
            actor_id = next(ids)
        verify_organization(
            db.session.get(Organization, org_id), db.session.get(User, actor_id), reason="ok"
        )

    outcomes = _in_threads(app, 4, verify)
    assert sorted(outcomes) == ["already_verified"] * 3 + ["ok"]
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "org.verify")).all()
    assert len(events) == 1
