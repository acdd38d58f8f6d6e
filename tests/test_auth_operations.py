"""The account verbs, called directly: create_user, authenticate, change_password."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.models import User
from aidmatch.auth.operations import (
    authenticate,
    change_password,
    create_user,
    register_with_invite,
    register_with_new_org,
    update_account,
)
from aidmatch.auth.passwords import verify_password
from aidmatch.extensions import db
from aidmatch.orgs.models import Invite, Organization, OrgKind
from aidmatch.permissions import Role
from aidmatch.refusals import Refusal
from aidmatch.web.errors import refusal_status
from tests.factories import PASSWORD, count, make_invite, make_org, make_user

GOOD = "seven brave field medics"


def test_create_user_normalises_email_and_hashes_password(app):
    org = make_org(kind=OrgKind.FRONTLINE_GROUP)
    user = create_user("  Olena@Example.ORG ", GOOD, " Olena  K. ", Role.ORGANIZER, org)
    assert user.email == "olena@example.org"
    assert user.display_name == "Olena K."
    assert user.password_hash != GOOD and verify_password(user.password_hash, GOOD)
    assert user.organization_id == org.id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.create")).one()
    assert event.object_id == user.id
    assert event.after["email"] == "olena@example.org"
    assert "password" not in str(event.after)


def test_taken_email_is_refused_whatever_its_case(app):
    make_user(email="taken@example.org")
    org = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    with pytest.raises(Refusal) as exc:
        create_user("TAKEN@example.org ", GOOD, "Other", Role.DONOR, org)
    assert exc.value.field == "email"
    assert refusal_status(exc.value) == 409
    assert count(User) == 1


@pytest.mark.parametrize(
    "password",
    [
        "short1",  # below PASSWORD_MIN_LENGTH
        "password123",  # common
        "Qwertyuiop",  # common, any case
        "aaaaaaaaaaaa",  # one character
        "abababababab",  # two characters
        "12345678901234",  # digits only
        "newuser@example.org",  # the email itself
        "x" * 300,  # absurdly long
    ],
)
def test_weak_passwords_are_refused(app, password):
    with pytest.raises(Refusal) as exc:
        create_user("newuser@example.org", password, "New", Role.COORDINATOR)
    assert exc.value.field == "password"
    assert exc.value.message
    assert count(User) == 0


def test_password_min_length_comes_from_config(app):
    app.config["PASSWORD_MIN_LENGTH"] = 30
    with pytest.raises(Refusal, match="30"):
        create_user("long@example.org", GOOD, "Long", Role.COORDINATOR)


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        (Role.ORGANIZER, OrgKind.DONOR_COLLECTIVE),
        (Role.ORGANIZER, OrgKind.SUPPLY_COLLECTIVE),
        (Role.DONOR, OrgKind.FRONTLINE_GROUP),
    ],
)
def test_role_must_fit_the_organization_kind(app, role, kind):
    org = make_org(kind=kind)
    with pytest.raises(Refusal) as exc:
        create_user("misfit@example.org", GOOD, "Misfit", role, org)
    assert exc.value.field == "role"
    assert count(User) == 0


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.DONOR])
def test_members_need_an_organization(app, role):
    with pytest.raises(Refusal) as exc:
        create_user("lonely@example.org", GOOD, "Lonely", role)
    assert exc.value.field == "organization"


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ADMIN])
def test_staff_may_have_no_organization_or_any(app, role):
    assert create_user(f"{role}@example.org", GOOD, "Staff", role).organization is None
    org = make_org(kind=OrgKind.SUPPLY_COLLECTIVE)
    assert create_user(f"{role}2@example.org", GOOD, "Staff", role, org).organization is org


def test_invalid_email_language_and_name_are_refused(app):
    with pytest.raises(Refusal) as exc:
        create_user("not-an-email", GOOD, "X", Role.COORDINATOR)
    assert exc.value.field == "email"
    with pytest.raises(Refusal) as exc:
        create_user("a@example.org", GOOD, "X", Role.COORDINATOR, language="fr")
    assert exc.value.field == "language"
    with pytest.raises(Refusal) as exc:
        create_user("a@example.org", GOOD, "   ", Role.COORDINATOR)
    assert exc.value.field == "display_name"
    with pytest.raises(Refusal) as exc:
        create_user("a@example.org", GOOD, "X", "superuser")
    assert exc.value.field == "role"


def test_domain_error_shape_for_the_api(app):
    make_user(email="dup@example.org")
    with pytest.raises(Refusal) as exc:
        create_user("dup@example.org", GOOD, "X", Role.COORDINATOR)
    err = exc.value
    assert err.code == "email_taken"
    assert err.fields == {"email": err.message}


def test_register_with_new_org_makes_an_unverified_org_and_fitting_role(app):
    user = register_with_new_org(
        "donor@example.org", GOOD, "Dana", "Berlin Helps", OrgKind.DONOR_COLLECTIVE, "dana@x.de"
    )
    assert user.role == Role.DONOR
    assert user.organization.name == "Berlin Helps"
    assert not user.organization.verified
    assert user.organization.contact == "dana@x.de"


def test_register_with_invite_joins_and_uses_the_code(app):
    org = make_org(kind=OrgKind.FRONTLINE_GROUP)
    invite = make_invite(org)
    user = register_with_invite(invite.code.lower(), "joiner@example.org", GOOD, "Joiner")
    assert user.organization_id == org.id
    assert user.role == Role.ORGANIZER
    assert invite.used_at is not None and invite.used_by_id == user.id


def test_refused_registration_leaves_the_invite_unused(app):
    org = make_org()
    invite = make_invite(org)
    db.session.commit()
    with pytest.raises(Refusal):
        register_with_invite(invite.code, "joiner@example.org", "weak", "Joiner")
    db.session.rollback()
    assert db.session.get(Invite, invite.id).used_at is None


def test_authenticate(app):
    user = make_user(email="login@example.org")
    assert user.last_login_at is None
    assert authenticate("LOGIN@example.org ", PASSWORD) is user
    assert user.last_login_at is not None
    assert authenticate("login@example.org", "wrong password") is None
    assert authenticate("nobody@example.org", PASSWORD) is None
    assert authenticate("", PASSWORD) is None


def test_authenticate_refuses_an_inactive_user(app):
    make_user(email="gone@example.org", active=False)
    assert authenticate("gone@example.org", PASSWORD) is None


def test_authenticate_rehashes_an_outdated_hash(app):
    weak_hasher = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1)
    user = make_user(email="old@example.org")
    user.password_hash = old_hash = weak_hasher.hash(PASSWORD)
    db.session.flush()
    assert authenticate("old@example.org", PASSWORD) is user
    assert user.password_hash != old_hash
    assert "m=512," not in user.password_hash
    assert verify_password(user.password_hash, PASSWORD)


def test_change_password(app):
    user = make_user()
    with pytest.raises(Refusal) as exc:
        change_password(user, "not my password", GOOD)
    assert exc.value.field == "old_password"
    with pytest.raises(Refusal) as exc:
        change_password(user, PASSWORD, "short")
    assert exc.value.field == "new_password"
    with pytest.raises(Refusal) as exc:
        change_password(user, PASSWORD, PASSWORD)
    assert exc.value.field == "new_password"
    change_password(user, PASSWORD, GOOD)
    assert verify_password(user.password_hash, GOOD)
    assert not verify_password(user.password_hash, PASSWORD)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "user.change_password" in actions


def test_update_account(app):
    user = make_user(display_name="Old")
    update_account(user, "  New   Name ", "de")
    assert user.display_name == "New Name"
    assert user.language == "de"
    with pytest.raises(Refusal) as exc:
        update_account(user, "Name", "xx")
    assert exc.value.field == "language"


def test_organizations_count_unchanged_by_refused_registration(app):
    make_org(name="Taken Name")
    db.session.commit()
    before = count(Organization)
    with pytest.raises(Refusal) as exc:
        register_with_new_org("x@example.org", GOOD, "X", "taken  NAME", OrgKind.FRONTLINE_GROUP)
    assert exc.value.field == "name"
    db.session.rollback()
    assert count(Organization) == before
    assert count(User) == 0


def test_outside_testing_mode_passwords_get_the_strong_argon2_parameters(app):
    from aidmatch.auth.passwords import hash_password, needs_rehash

    app.config["TESTING"] = False
    try:
        strong = hash_password(GOOD)
        assert strong.startswith("$argon2id$") and "m=65536,t=3,p=4" in strong
        assert not needs_rehash(strong)
        assert verify_password(strong, GOOD)
    finally:
        app.config["TESTING"] = True
