"""flask users create: success, and one clear line for every refusal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from aidmatch.auth.models import User
from aidmatch.auth.passwords import verify_password
from aidmatch.extensions import db
from aidmatch.orgs.models import Organization, OrgKind
from aidmatch.permissions import Role
from tests.factories import count, make_org, make_user

GOOD = "seven brave field medics"


@pytest.fixture
def run(app):
    """Invoke `flask users create ...` with the given arguments and input."""
    runner = app.test_cli_runner()

    def _run(*args, input=None):
        return runner.invoke(args=["users", "create", *args], input=input)

    return _run


@pytest.fixture
def piped(run):
    """`users create EMAIL --role ROLE ... --password-stdin`, the password on standard input."""

    def _piped(email, role, *options, password=GOOD):
        return run(email, "--role", role, *options, "--password-stdin", input=f"{password}\n")

    return _piped


def one_error_line(result) -> str:
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_create_coordinator_with_prompted_password(run):
    result = run("Coord@Example.org", "--role", "coordinator", input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "Created coordinator coord@example.org" in result.stdout
    assert GOOD not in result.output  # the prompt hides the input
    user = db.session.scalars(select(User)).one()
    assert user.role == Role.COORDINATOR and user.organization is None
    assert user.display_name == "Coord"
    assert verify_password(user.password_hash, GOOD)


def test_prompted_passwords_must_match(run):
    result = run("a@example.org", "--role", "admin", input=f"{GOOD}\nother words here\n")
    # click asks again after a mismatch; with no more input the command fails.
    assert result.exit_code != 0
    assert count(User) == 0


def test_password_from_stdin_and_new_org_created_verified(piped):
    result = piped(
        "olena@example.org",
        "organizer",
        "--org",
        "Kharkiv Field Medics",
        "--org-kind",
        "frontline_group",
        "--name",
        "Olena K.",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().count("\n") == 0  # one line
    user = db.session.scalars(select(User)).one()
    assert user.display_name == "Olena K."
    assert verify_password(user.password_hash, GOOD)
    org = user.organization
    assert org.name == "Kharkiv Field Medics" and org.kind == OrgKind.FRONTLINE_GROUP
    assert org.verified


def test_existing_org_is_joined_whatever_the_case(piped):
    org = make_org(name="Berlin Helps", kind=OrgKind.DONOR_COLLECTIVE, verified=False)
    db.session.commit()
    result = piped("d@example.org", "donor", "--org", "berlin helps")
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(User)).one().organization_id == org.id
    assert count(Organization) == 1
    assert not org.verified  # joining does not verify an existing organization


def test_bad_role(piped):
    line = one_error_line(piped("a@example.org", "superuser"))
    assert "unknown role 'superuser'" in line
    assert count(User) == 0


def test_bad_org_kind(piped):
    line = one_error_line(piped("a@example.org", "organizer", "--org", "X", "--org-kind", "army"))
    assert "unknown organization kind" in line
    assert count(User) == 0 and count(Organization) == 0


def test_existing_email(piped):
    make_user(email="taken@example.org", role=Role.ADMIN)
    db.session.commit()
    line = one_error_line(piped("TAKEN@example.org", "admin"))
    assert "exists already" in line
    assert count(User) == 1


def test_missing_org_kind_for_a_new_org(piped):
    line = one_error_line(piped("a@example.org", "organizer", "--org", "New Group"))
    assert "--org-kind" in line
    assert count(User) == 0 and count(Organization) == 0


def test_member_roles_need_an_org(piped):
    line = one_error_line(piped("a@example.org", "donor"))
    assert "--org" in line


def test_role_must_fit_the_org_kind(piped):
    line = one_error_line(
        piped("a@example.org", "donor", "--org", "Front", "--org-kind", "frontline")
    )
    assert "frontline_group" in line
    assert count(Organization) == 0


def test_weak_password(piped):
    line = one_error_line(
        piped(
            "a@example.org",
            "organizer",
            "--org",
            "New Group",
            "--org-kind",
            "frontline_group",
            password="short",
        )
    )
    assert "password" in line.lower() and "at least" in line
    # Nothing half-made: not the user, not the organization.
    assert count(User) == 0 and count(Organization) == 0


def test_empty_stdin(run):
    line = one_error_line(run("a@example.org", "--role", "admin", "--password-stdin", input=""))
    assert "no password" in line
