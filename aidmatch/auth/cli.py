"""flask users create: the first coordinator or admin, or a member of a named organization."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from aidmatch.auth.operations import create_user, find_user
from aidmatch.extensions import db
from aidmatch.orgs.models import OrgKind
from aidmatch.orgs.operations import create_organization, find_organization
from aidmatch.permissions import STAFF_ROLES, Role, role_for_org_kind
from aidmatch.refusals import Refusal

users_cli = AppGroup("users", help="Manage user accounts.")

# Short names accepted for --org-kind besides the full ones.
KIND_ALIASES = {
    "frontline": OrgKind.FRONTLINE_GROUP,
    "donor": OrgKind.DONOR_COLLECTIVE,
    "supply": OrgKind.SUPPLY_COLLECTIVE,
    "hub": OrgKind.HUB,
}


def _parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise click.ClickException(f"unknown role {value!r}: use one of {choices}") from None


def _parse_kind(value: str) -> OrgKind:
    value = value.strip().lower().replace("-", "_")
    if value in KIND_ALIASES:
        return KIND_ALIASES[value]
    try:
        return OrgKind(value)
    except ValueError:
        choices = ", ".join(k.value for k in OrgKind)
        raise click.ClickException(
            f"unknown organization kind {value!r}: use one of {choices}"
        ) from None


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", "role_name", required=True, help="organizer, donor, coordinator or admin")
@click.option("--org", "org_name", help="Organization name; created (verified) if new.")
@click.option(
    "--org-kind",
    "kind_name",
    help="frontline_group, donor_collective, supply_collective or hub (needed for a new --org).",
)
@click.option("--name", "display_name", help="Display name (default: the email's local part).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from one line of standard input."
)
def create_user_command(email, role_name, org_name, kind_name, display_name, password_stdin):
    """Create a user account (its organization too, verified, when it does not exist)."""
    role = _parse_role(role_name)
    kind = _parse_kind(kind_name) if kind_name else None
    if find_user(email) is not None:
        raise click.ClickException(f"a user with the email {email.strip().lower()} exists already")
    if org_name is None and role not in STAFF_ROLES:
        raise click.ClickException(f"a {role.value} belongs to an organization: give --org NAME")
    org = find_organization(org_name) if org_name else None
    if org_name and org is None and kind is None:
        raise click.ClickException(
            f"organization {org_name!r} does not exist: give --org-kind to create it"
        )
    if org is not None and kind is not None and org.kind != kind:
        raise click.ClickException(
            f"organization {org.name!r} exists and is a {org.kind.value}, not a {kind.value}"
        )
    target_kind = org.kind if org is not None else kind
    if org_name and role not in STAFF_ROLES and role_for_org_kind(target_kind) != role:
        raise click.ClickException(
            "organizers belong to a frontline_group, donors to a donor_collective, "
            "supply_collective or hub"
        )

    password = _read_password(password_stdin)
    # Messages of the operations in English: this is an operator's terminal, not a user's page.
    with force_locale("en"):
        try:
            if org_name and org is None:
                org = create_organization(org_name, kind, verified=True)
            user = create_user(
                email,
                password,
                display_name or email.strip().split("@")[0],
                role,
                organization=org,
            )
        except Refusal as err:
            db.session.rollback()
            field = f"{err.field}: " if err.field else ""
            raise click.ClickException(f"{field}{err.message}") from None
    db.session.commit()
    where = f" in {org.name} ({org.kind.value})" if org is not None else ""
    click.echo(f"Created {user.role.value} {user.email}{where}.")
