"""Plain functions that create domain objects for tests (flushed, not committed)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from aidmatch.auth.models import User
from aidmatch.auth.passwords import hash_password
from aidmatch.extensions import db
from aidmatch.orgs.lifecycle import OrgState
from aidmatch.orgs.models import Invite, Organization, OrgKind, org_name_key
from aidmatch.permissions import Role

PASSWORD = "correct horse battery"
_counter = itertools.count(1)
_password_hash = None


def _hashed() -> str:
    global _password_hash
    if _password_hash is None:
        _password_hash = hash_password(PASSWORD)
    return _password_hash


def make_org(
    name: str | None = None,
    kind: OrgKind = OrgKind.FRONTLINE_GROUP,
    verified: bool = True,
    contact: str = "",
    **fields,
) -> Organization:
    """An organization, verified unless told otherwise."""
    n = next(_counter)
    name = name or f"Group {n}"
    org = Organization(
        name=name,
        name_key=org_name_key(name),
        kind=kind,
        contact=contact or f"Signal +380 50 000 {n:04d}",
        verified_at=datetime.now(UTC) if verified else None,
        state=OrgState.VERIFIED if verified else OrgState.UNVERIFIED,
        **fields,
    )
    db.session.add(org)
    db.session.flush()
    return org


def make_user(
    role: Role = Role.ORGANIZER,
    org: Organization | None = None,
    email: str | None = None,
    password: str | None = None,
    **fields,
) -> User:
    """A user; organizers and donors get an organization of the fitting kind if none given."""
    n = next(_counter)
    if org is None and role == Role.ORGANIZER:
        org = make_org(kind=OrgKind.FRONTLINE_GROUP)
    elif org is None and role == Role.DONOR:
        org = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    fields.setdefault("language", "en")  # the suite's assertions read English
    user = User(
        email=(email or f"user{n}@example.org").lower(),
        password_hash=hash_password(password) if password else _hashed(),
        display_name=fields.pop("display_name", f"User {n}"),
        role=role,
        organization=org,
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_invite(
    org: Organization,
    created_by: User | None = None,
    code: str | None = None,
    expires_in: timedelta = timedelta(days=7),
    used_by: User | None = None,
) -> Invite:
    """An invite code for `org` (made by a new member unless given), unused unless used_by."""
    n = next(_counter)
    created_by = created_by or make_user(
        role=Role.ORGANIZER if org.kind == OrgKind.FRONTLINE_GROUP else Role.DONOR, org=org
    )
    now = datetime.now(UTC)
    invite = Invite(
        code=code or f"TEST-{n:04d}-AAAA-BBBB",
        organization=org,
        created_by_id=created_by.id,
        created_at=now,
        expires_at=now + expires_in,
        used_at=now if used_by else None,
        used_by_id=used_by.id if used_by else None,
    )
    db.session.add(invite)
    db.session.flush()
    return invite


def count(model) -> int:
    """How many rows a model's table holds."""
    from sqlalchemy import func, select

    return db.session.scalar(select(func.count()).select_from(model))
