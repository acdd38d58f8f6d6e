"""What admins do to accounts (/admin/users): find them, disable, enable, change a role.

Verbs like every operations module: they check, change rows, flush and audit; never commit.
A disabled account's sessions end at once (its session stamp changes, and the session
loader refuses an inactive user) and so do its API tokens (revoked). Nobody disables or
demotes themselves, so an instance always keeps the admin who acts.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from aidmatch.audit.operations import record
from aidmatch.auth.models import User
from aidmatch.auth.tokens import revoke_all
from aidmatch.extensions import db
from aidmatch.orgs.models import Organization
from aidmatch.permissions import STAFF_ROLES, Role, role_fits_org
from aidmatch.refusals import Conflict, Invalid, NotAllowed

# The state filter of the list: active or disabled accounts.
STATES = ("active", "disabled")


@dataclass(frozen=True)
class UserFilters:
    """What the list of users is narrowed to: words of the name or e-mail, a role, a state."""

    q: str | None = None
    role: str | None = None
    state: str | None = None


def users_query(filters: UserFilters):
    """(user, organization name) of the users the filters keep, newest first."""
    stmt = (
        select(User, Organization.name)
        .outerjoin(Organization, Organization.id == User.organization_id)
        .order_by(User.id.desc())
    )
    if filters.q:
        escaped = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            or_(
                User.email.like(pattern.lower(), escape="\\"),
                User.display_name.ilike(pattern, escape="\\"),
            )
        )
    if filters.role in {str(role) for role in Role}:
        stmt = stmt.where(User.role == Role(filters.role))
    if filters.state in STATES:
        stmt = stmt.where(User.active.is_(filters.state == "active"))
    return stmt


def _not_oneself(actor: User, user: User, message) -> None:
    if actor is not None and actor.id == user.id:
        raise NotAllowed(message, code="self")


def disable_user(actor: User, user: User) -> int:
    """Disable an account: it can no longer log in, its sessions end on their next request
    and its API tokens are revoked (how many returned). Not one's own account."""
    _not_oneself(
        actor,
        user,
        _l("You cannot disable your own account: ask another admin if it must be disabled."),
    )
    if not user.active:
        raise Conflict(_l("This account is disabled already."), code="conflict")
    user.active = False
    user.end_sessions()
    revoked = revoke_all(user)
    db.session.flush()
    record(
        actor,
        "user.disable",
        user,
        before={"active": True},
        after={"active": False, "tokens_revoked": revoked},
    )
    return revoked


def enable_user(actor: User, user: User) -> None:
    """Let a disabled account log in again (its old sessions and tokens stay ended)."""
    if user.active:
        raise Conflict(_l("This account is active already."), code="conflict")
    user.active = True
    db.session.flush()
    record(actor, "user.enable", user, before={"active": False}, after={"active": True})


def change_role(actor: User, user: User, role) -> None:
    """Give an account another role. Organizers belong to frontline groups and donors to
    donor or supply collectives (permissions.role_fits_org); coordinators and admins to any
    organization or none. Not one's own role."""
    try:
        role = Role(role)
    except ValueError:
        raise Invalid(
            _l("Choose a role: organizer, donor, coordinator or admin."), field="role"
        ) from None
    _not_oneself(
        actor,
        user,
        _l("You cannot change your own role: ask another admin if it must change."),
    )
    if role == user.role:
        raise Conflict(_l("This account has this role already."), field="role", code="conflict")
    if user.organization is None and role not in STAFF_ROLES:
        raise Invalid(
            _l("Organizers and donors belong to an organization, and this account has none."),
            field="role",
        )
    if not role_fits_org(role, user.organization):
        raise Invalid(
            _l("Organizers belong to frontline groups, donors to donor or supply collectives."),
            field="role",
        )
    before = user.role
    user.role = role
    db.session.flush()
    record(actor, "user.change_role", user, before={"role": before}, after={"role": role})
