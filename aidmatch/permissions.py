"""Roles and every permission check; views call these, never compare roles themselves."""

from __future__ import annotations

from enum import StrEnum
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user


class Role(StrEnum):
    ORGANIZER = "organizer"
    DONOR = "donor"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.COORDINATOR, Role.ADMIN})


def is_staff(user) -> bool:
    """Coordinators and admins: they verify organizations and see exact locations."""
    return bool(user and user.is_authenticated and user.role in STAFF_ROLES)


def is_admin(user) -> bool:
    """Operators of the instance."""
    return bool(user and user.is_authenticated and user.role == Role.ADMIN)


def can_verify_orgs(user) -> bool:
    """Coordinators and admins verify organizations."""
    return can_decide_orgs(user)


def is_member(user, org) -> bool:
    """The user belongs to this organization."""
    return bool(
        user and user.is_authenticated and org is not None and user.organization_id == org.id
    )


def is_owner(user, org) -> bool:
    """The user is one of the organization's owners (users.org_role; orgs.models.OrgRole)."""
    return is_member(user, org) and user.org_role == "owner"


def can_edit_org(user, org) -> bool:
    """An organization's profile (name, settlement, kind, description, contact, whether the
    transparency page may name it): its owners, coordinators and admins."""
    return is_owner(user, org) or is_staff(user)


def can_set_payment_details(user, org) -> bool:
    """Where a group takes money (IBAN, card, payment link): its owners only, not staff:
    nobody outside the group may say where its money goes (a coordinator also confirms the
    pledges that reveal it)."""
    return is_owner(user, org)


def can_manage_members(user, org) -> bool:
    """Remove members, make a member an owner or an owner a member: its owners and staff."""
    return is_owner(user, org) or is_staff(user)


def can_leave_org(user, org) -> bool:
    """A member may leave its organization (the verb keeps the last owner while others stay)."""
    return is_member(user, org)


def can_decide_orgs(user) -> bool:
    """Verify, reject, suspend, un-verify an organization (orgs/lifecycle.py); the directory of
    all organizations, with their contacts and the notes of how they were checked."""
    return is_staff(user)


def can_decide_on(user, org) -> bool:
    """can_decide_orgs for one organization: never one's own (a coordinator who belongs to a
    group does not verify, suspend or lift the suspension of it, as matches/rules.can_review
    keeps coordinators from approving their own organization's matches)."""
    return can_decide_orgs(user) and (org is None or user.organization_id != org.id)


def can_invite(user, org) -> bool:
    """Members of an organization (and staff, to onboard a group) make invite codes for it."""
    return is_member(user, org) or is_staff(user)


def can_vouch(user, org) -> bool:
    """Vouch for an unverified organization on behalf of one's own (orgs/vouches.py): an owner
    of a verified organization."""
    return is_owner(user, org) and bool(org.verified)


def can_withdraw_vouch(user, org) -> bool:
    """Withdraw a vouch this organization made: its owners (whatever its state now)."""
    return is_owner(user, org)


def can_open_vouch_page(user, org) -> bool:
    """The page to vouch for an organization (/orgs/<id>/vouch): the link a group waiting for
    verification passes on, so any owner who may vouch opens it for such a group; for any
    other organization, only who may see its page (else it names a rejected or suspended
    group and its settlement to whoever tries ids)."""
    if org is None or not can_vouch(user, getattr(user, "organization", None)):
        return False
    return org.state == "unverified" or can_view_org(user, org)  # OrgState's value


def can_see_vouchers(user) -> bool:
    """Who vouched for whom, and why: coordinators and admins (a donor sees only the
    "vouched" badge; an organization its own vouches)."""
    return is_staff(user)


def can_view_org(user, org) -> bool:
    """An organization's page: its members and staff; other signed-in users once it is verified."""
    if is_staff(user) or is_member(user, org):
        return True
    return bool(user and user.is_authenticated and org is not None and org.verified)


def can_see_org_members(user, org) -> bool:
    """Who belongs to an organization: its members and staff."""
    return is_staff(user) or is_member(user, org)


def can_see_org_contact(user, org) -> bool:
    """An organization's contact: its members and staff (and later a confirmed partner)."""
    return is_staff(user) or is_member(user, org)


def can_see_org_report(user, org) -> bool:
    """A donor organization's report (what it gave and what arrived): its members and staff;
    only collectives and hubs have one (a group's needs are reported by its donors)."""
    if org is None or role_for_org_kind(org.kind) != Role.DONOR:
        return False
    return is_staff(user) or is_member(user, org)


def can_see_network_report(user) -> bool:
    """The report over the whole network: coordinators and admins."""
    return is_staff(user)


def can_pledge_money(user) -> bool:
    """A money pledge to a priced need: members of a verified donor or supply collective (not
    a hub: it forwards goods, it gives no money)."""
    org = getattr(user, "organization", None) if user and user.is_authenticated else None
    return bool(
        org is not None
        and user.role == Role.DONOR
        and org.verified_at is not None
        and org.kind in ("donor_collective", "supply_collective")  # OrgKind's values
    )


def can_review_pledge(user, pledge) -> bool:
    """Confirm or reject a money pledge: coordinators and admins, never for their own
    organization (as matches/rules.can_review)."""
    return is_staff(user) and user.organization_id not in (
        pledge.organization_id,
        pledge.need.organization_id,
    )


def can_stop_pledge(user, pledge) -> bool:
    """Stop (cancel) a money pledge: the members of the collective that pledged."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.organization_id is not None
        and user.organization_id == pledge.organization_id
    )


def can_act_for_group(user, need) -> bool:
    """Set a need's cost, confirm money received on it, report what it bought: the members of
    the need's group."""
    return is_member(user, need.organization)


def can_run_fundraiser(user, org) -> bool:
    """Start or edit a fundraiser: members of a verified donor collective (its own)."""
    return bool(can_pledge_money(user) and is_member(user, org))


def role_for_org_kind(kind) -> Role:
    """The role of someone who joins an organization of this kind: organizers for a frontline
    group (they post needs and receive), donors for the rest, hubs included (a warehouse or
    border hub holds and forwards donors' goods and may give from its stock; it posts no
    needs)."""
    return Role.ORGANIZER if kind == "frontline_group" else Role.DONOR  # OrgKind's value


def role_fits_org(role: Role, org) -> bool:
    """Organizers join frontline groups, donors donor/supply collectives and hubs; staff any
    org or none."""
    if role in STAFF_ROLES:
        return True
    return org is not None and role_for_org_kind(org.kind) == role


def deny_unless(allowed: bool) -> None:
    """Stop the request unless allowed: 403, or login / 401 for someone not signed in."""
    if allowed:
        return
    if not current_user.is_authenticated:
        abort(401 if _wants_json() else redirect(_login_url()))
    abort(403)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _login_url() -> str:
    """The login page, returning here afterwards when here is a page (a GET)."""
    if request.method == "GET":
        return url_for("auth.login", next=request.full_path.rstrip("?"))
    return url_for("auth.login")


def require_login(view):
    """Redirect anonymous browsers to the login page; JSON callers get 401."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            if _wants_json():
                abort(401)
            return redirect(_login_url())
        return view(*args, **kwargs)

    return wrapped


def require_role(*roles: Role):
    """Allow only users with one of these roles; others get 403 (anonymous: login / 401)."""
    allowed = frozenset(roles)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if _wants_json():
                    abort(401)
                return redirect(_login_url())
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def require_staff(view):
    """Coordinators and admins only."""
    return require_role(*STAFF_ROLES)(view)
