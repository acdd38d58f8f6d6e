"""The members' verbs: remove a member, leave, make a member an owner or an owner a member.
Owners and staff manage members (permissions.can_manage_members); the last owner stays while
other members remain; someone removed keeps the account, without an organization. They flush
and audit, never commit."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from aidmatch.audit.operations import record
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.orgs.models import Invite, Organization, OrgRole
from aidmatch.permissions import can_leave_org, can_manage_members, is_member
from aidmatch.refusals import Conflict, Invalid, NotAllowed, NotFound


def _keep_an_owner(org: Organization, member, message) -> None:
    """Refuse to take away the last owner of an organization that keeps other members. The
    organization's row is locked first (PostgreSQL; SQLite's writers queue anyway), so two
    owners removing each other at once cannot leave it without one."""
    db.session.execute(select(Organization.id).where(Organization.id == org.id).with_for_update())
    db.session.expire(org, ["members"])
    others = [m for m in org.members if m.id != member.id]
    if member.org_role != OrgRole.OWNER or any(m.org_role == OrgRole.OWNER for m in others):
        return
    if others:
        raise Conflict(message, code="last_owner")


def _end_membership(org: Organization, member, actor, action: str, **after) -> None:
    before = {"organization_id": org.id, "org_role": member.org_role}
    member.organization_id = None
    member.organization = None
    member.org_role = OrgRole.MEMBER
    db.session.flush()
    record(actor, action, member, before=before, after={"organization_id": None, **after})


def _end_open_invites(org: Organization) -> int:
    """Expire the organization's unused invite codes (how many): its page lists them to every
    member, so someone removed could otherwise come back with a new account. The owners make
    new ones."""
    now = utcnow()
    result = db.session.execute(
        update(Invite)
        .where(
            Invite.organization_id == org.id,
            Invite.used_at.is_(None),
            Invite.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def remove_member(org: Organization, member, actor):
    """End a member's membership of the organization (owners and staff): the account stays,
    without an organization, and the organization's unused invite codes end with it. The last
    owner is not removed while other members remain."""
    if not can_manage_members(actor, org):
        raise NotAllowed(
            _l("Only the owners of this organization and coordinators may remove members."),
            code="forbidden",
        )
    if member is None or member.organization_id != org.id:
        raise NotFound(_l("This person is not a member of this organization."))
    _keep_an_owner(
        org,
        member,
        _l(
            "%(name)s is the last owner: make another member an owner first.",
            name=member.display_name,
        ),
    )
    ended = _end_open_invites(org)
    _end_membership(org, member, actor, "org.member_remove", invites_ended=ended)
    return member


def leave_organization(member):
    """A member leaves its organization (the account stays). The last owner may leave only
    when no other member remains: it makes another member an owner first."""
    org = member.organization if member is not None else None
    if org is None or not can_leave_org(member, org):
        raise NotAllowed(_l("You are not a member of an organization."), code="forbidden")
    _keep_an_owner(
        org,
        member,
        _l("You are the last owner: make another member an owner before you leave."),
    )
    _end_membership(org, member, member, "org.member_leave")
    return org


def set_member_role(org: Organization, member, role, actor):
    """Make a member an owner, or an owner a member again (owners and staff); the last owner
    stays one while other members remain."""
    if not can_manage_members(actor, org):
        raise NotAllowed(
            _l("Only the owners of this organization and coordinators may change roles."),
            code="forbidden",
        )
    if member is None or not is_member(member, org):
        raise NotFound(_l("This person is not a member of this organization."))
    try:
        role = OrgRole(role)
    except ValueError:
        raise Invalid(_l("Choose member or owner."), field="org_role") from None
    if role == member.org_role:
        return member
    if role == OrgRole.MEMBER:
        _keep_an_owner(
            org,
            member,
            _l(
                "%(name)s is the last owner: make another member an owner first.",
                name=member.display_name,
            ),
        )
    before = {"org_role": member.org_role}
    member.org_role = role
    db.session.flush()
    record(actor, "org.member_role", member, before=before, after={"org_role": role})
    return member
