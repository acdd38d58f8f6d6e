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
    return is_staff(user)


def can_invite(user) -> bool:
    """Any active member of an organization may make invite codes for it."""
    return bool(user and user.is_authenticated and user.organization_id is not None)


def is_member(user, org) -> bool:
    """The user belongs to this organization."""
    return bool(
        user and user.is_authenticated and org is not None and user.organization_id == org.id
    )


def can_see_org_contact(user, org) -> bool:
    """An organization's contact: its members and staff (and later a confirmed partner)."""
    return is_staff(user) or is_member(user, org)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def require_login(view):
    """Redirect anonymous browsers to the login page; JSON callers get 401."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            if _wants_json():
                abort(401)
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
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
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
