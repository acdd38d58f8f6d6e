"""/admin/users: search, filters, pages; disable (sessions and API tokens end), enable,
change role; every refusal, and every change in the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.admin import change_role, disable_user, enable_user
from aidmatch.auth.models import ApiToken, User
from aidmatch.auth.tokens import issue
from aidmatch.extensions import db
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.refusals import Conflict, Invalid, NotAllowed
from tests.conftest import ApiClient
from tests.factories import PASSWORD, make_org, make_user


def _events(user: User) -> list[tuple[str, dict | None, dict | None]]:
    rows = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "users", AuditEvent.object_id == user.id)
        .where(AuditEvent.action != "user.create")
        .order_by(AuditEvent.id)
    )
    return [(e.action, e.before, e.after) for e in rows]


@pytest.fixture
def admin(app):
    user = make_user(Role.ADMIN, display_name="Admin Anna")
    db.session.commit()
    return user


def test_only_admins_open_the_pages(app, client, login_as, admin):
    for role in (Role.ORGANIZER, Role.DONOR, Role.COORDINATOR):
        other = make_user(role)
        db.session.commit()
        client.post("/logout")
        login_as(other)
        assert client.get("/admin/users").status_code == 403
        assert client.get("/admin/categories").status_code == 403
        assert client.get("/admin/settings").status_code == 403
        assert client.get("/admin").status_code == 403
        assert client.post(f"/admin/users/{admin.id}/disable").status_code == 403
        assert db.session.get(User, admin.id).active is True
    client.post("/logout")
    assert client.get("/admin/users").status_code == 302  # to the login page
    login_as(admin)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/admin"' in page  # the nav entry
    index = client.get("/admin").get_data(as_text=True)
    for link in ("/admin/users", "/admin/categories", "/admin/settings", "/admin/deliveries"):
        assert f'href="{link}"' in index


def test_search_filters_and_pages(app, client, login_as, admin):
    group = make_org("Медики Ізюма")
    oksana = make_user(Role.ORGANIZER, org=group, display_name="Оксана Коваль",
                       email="oksana@example.org")  # fmt: skip
    donor = make_user(Role.DONOR, display_name="Jonas Weber", email="jonas@hilfe.de")
    gone = make_user(Role.DONOR, display_name="Old Account", email="old@example.org", active=False)
    db.session.commit()
    login_as(admin)

    def shown(query: str) -> set[str]:
        text = client.get(f"/admin/users{query}").get_data(as_text=True)
        return {u.email for u in (admin, oksana, donor, gone) if u.email in text}

    assert shown("") == {admin.email, oksana.email, donor.email, gone.email}
    assert shown("?q=Оксана") == {oksana.email}
    assert shown("?q=HILFE.DE") == {donor.email}
    assert shown("?q=weber") == {donor.email}
    assert shown("?role=donor") == {donor.email, gone.email}
    assert shown("?role=donor&state=active") == {donor.email}
    assert shown("?state=disabled") == {gone.email}
    assert shown("?role=nonsense&state=nonsense") == {admin.email, oksana.email, donor.email,
                                                      gone.email}  # fmt: skip
    assert shown("?q=%25") == set()  # a typed % is a character, not a wildcard
    page = client.get("/admin/users?q=Оксана").get_data(as_text=True)
    assert "Медики Ізюма" in page and "organizer" in page

    for n in range(55):
        make_user(Role.DONOR, org=donor.organization, email=f"bulk{n:02d}@example.org")
    db.session.commit()
    first = client.get("/admin/users?role=donor").get_data(as_text=True)
    second = client.get("/admin/users?role=donor&page=2").get_data(as_text=True)
    assert "bulk54@example.org" in first and "bulk54@example.org" not in second
    assert gone.email in second and gone.email not in first
    assert "Page 1 of 2" in first and "role=donor&amp;page=2" in first


def test_disable_ends_sessions_and_tokens_then_enable(app, admin, login_as):
    victim = make_user(Role.DONOR)
    token, _row = issue(victim, ttl_hours=1)
    db.session.commit()
    victim_client = app.test_client()
    victim_client.post("/login", data={"email": victim.email, "password": PASSWORD})
    assert victim_client.get("/account").status_code == 200
    api = ApiClient(app.test_client(), token)
    assert api.get("/me").status_code == 200

    admin_client = app.test_client()
    admin_client.post("/login", data={"email": admin.email, "password": PASSWORD})
    response = admin_client.post(
        f"/admin/users/{victim.id}/disable", data={"next": "/admin/users?state=active"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users?state=active"
    assert "is disabled" in admin_client.get("/admin/users").get_data(as_text=True)

    # The open session ends on its next request; the bearer token gets 401.
    assert victim_client.get("/account").status_code == 302
    assert api.get("/me").status_code == 401
    db.session.expire_all()
    assert db.session.get(User, victim.id).active is False
    assert db.session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == victim.id))
    refused = victim_client.post("/login", data={"email": victim.email, "password": PASSWORD})
    assert refused.status_code == 200  # the form again: no session

    assert admin_client.post(f"/admin/users/{victim.id}/enable").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, victim.id).active is True
    assert api.get("/me").status_code == 401  # its tokens stay revoked
    assert victim_client.get("/account").status_code == 302  # and its old sessions ended
    assert (
        victim_client.post("/login", data={"email": victim.email, "password": PASSWORD}).status_code
        == 302
    )
    assert _events(victim) == [
        ("user.disable", {"active": True}, {"active": False, "tokens_revoked": 1}),
        ("user.enable", {"active": False}, {"active": True}),
    ]


def test_change_role_through_the_page(app, client, login_as, admin):
    collective = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    donor = make_user(Role.DONOR, org=collective)
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    login_as(admin)
    assert (
        client.post(f"/admin/users/{donor.id}/role", data={"role": "coordinator"}).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(User, donor.id).role == Role.COORDINATOR
    # An organizer belongs to a frontline group: refused, with the reason on the next page.
    client.post(f"/admin/users/{donor.id}/role", data={"role": "organizer"})
    assert "Organizers belong to frontline groups" in client.get("/admin/users").get_data(
        as_text=True
    )
    # A coordinator of no organization cannot become a donor.
    client.post(f"/admin/users/{coordinator.id}/role", data={"role": "donor"})
    text = client.get("/admin/users").get_data(as_text=True)
    assert "this account has none" in text
    db.session.expire_all()
    assert db.session.get(User, coordinator.id).role == Role.COORDINATOR
    assert db.session.get(User, donor.id).role == Role.COORDINATOR
    assert _events(donor) == [
        ("user.change_role", {"role": "donor"}, {"role": "coordinator"}),
    ]


def test_an_admin_cannot_disable_or_demote_themselves(app, client, login_as, admin):
    login_as(admin)
    client.post(f"/admin/users/{admin.id}/disable")
    text = client.get("/admin/users").get_data(as_text=True)
    assert "You cannot disable your own account" in text
    client.post(f"/admin/users/{admin.id}/role", data={"role": "coordinator"})
    text = client.get("/admin/users").get_data(as_text=True)
    assert "You cannot change your own role" in text
    db.session.expire_all()
    me = db.session.get(User, admin.id)
    assert (me.active, me.role) == (True, Role.ADMIN)
    assert _events(admin) == []
    assert client.get("/admin/users").status_code == 200  # still signed in


def test_verbs_refuse_what_makes_no_sense(app, english, admin):
    user = make_user(Role.DONOR)
    with pytest.raises(NotAllowed):
        disable_user(admin, admin)
    with pytest.raises(NotAllowed):
        change_role(admin, admin, Role.COORDINATOR)
    with pytest.raises(Conflict, match="active already"):
        enable_user(admin, user)
    disable_user(admin, user)
    with pytest.raises(Conflict, match="disabled already"):
        disable_user(admin, user)
    with pytest.raises(Invalid, match="Choose a role"):
        change_role(admin, user, "emperor")
    with pytest.raises(Conflict, match="this role already"):
        change_role(admin, user, "donor")
    assert [action for action, _b, _a in _events(user)] == ["user.disable"]


def test_unknown_user_is_404(app, client, login_as, admin):
    login_as(admin)
    assert client.post("/admin/users/999999/disable").status_code == 404
