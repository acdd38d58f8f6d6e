"""Organization verbs: create, verify, invite, redeem an invite (flush and audit, never commit).
A new organization waiting for verification, and a verification, are announced by the signals
of orgs/signals.py."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from aidmatch.audit.operations import record
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.orgs.models import Invite, Organization, OrgKind, org_name_key
from aidmatch.orgs.signals import org_verified, org_waiting
from aidmatch.permissions import can_invite, can_verify_orgs
from aidmatch.refusals import Conflict, Invalid, NotAllowed

MAX_NAME_LENGTH = 200
MAX_CONTACT_LENGTH = 2000

# Crockford's base32: no I, L, O, U, so a code read aloud or typed on a phone is unambiguous.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS = 4  # 4 groups of 4 characters: 80 random bits
_CODE_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _org_snapshot(org: Organization) -> dict:
    return {
        "name": org.name,
        "kind": org.kind,
        "place_id": org.place_id,
        "verified_at": org.verified_at,
        "verified_by_id": org.verified_by_id,
    }


def find_organization(name: str) -> Organization | None:
    """The organization of this name, compared as org_name_key does (case, spaces)."""
    return db.session.scalar(
        select(Organization).where(Organization.name_key == org_name_key(name))
    )


def _name_taken() -> Conflict:
    return Conflict(_l("An organization with this name is already registered."), field="name")


def check_name_free(name: str) -> None:
    """Refuse (Conflict on "name") a name another organization has, whatever its case."""
    if find_organization(name) is not None:
        raise _name_taken()


def create_organization(
    name: str,
    kind: OrgKind,
    actor=None,
    place=None,
    contact: str = "",
    verified: bool = False,
) -> Organization:
    """Create an organization (unverified unless told otherwise); refuse a duplicate name."""
    name = " ".join((name or "").split())
    contact = (contact or "").strip()
    if not name:
        raise Invalid(_l("Enter the organization's name."), field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise Invalid(_l("Use at most %(num)d characters.", num=MAX_NAME_LENGTH), field="name")
    if len(contact) > MAX_CONTACT_LENGTH:
        raise Invalid(
            _l("Use at most %(num)d characters.", num=MAX_CONTACT_LENGTH), field="contact"
        )
    try:
        kind = OrgKind(kind)
    except ValueError:
        raise Invalid(_l("Choose the kind of organization."), field="kind") from None
    check_name_free(name)

    org = Organization(
        name=name,
        name_key=org_name_key(name),
        kind=kind,
        place=place,
        contact=contact,
        verified_at=utcnow() if verified else None,
        verified_by_id=getattr(actor, "id", None) if verified else None,
    )
    try:
        # A savepoint: a concurrent registration of the same name loses cleanly, not with a 500.
        with db.session.begin_nested():
            db.session.add(org)
    except IntegrityError:
        raise _name_taken() from None
    record(actor, "org.create", org, after=_org_snapshot(org))
    if org.verified_at is None:
        org_waiting.send(org, actor=actor)
    return org


def verify_organization(org: Organization, actor) -> Organization:
    """Mark an organization verified by a coordinator or admin; verifying twice is refused."""
    if not can_verify_orgs(actor):
        raise NotAllowed(_l("Only coordinators and admins verify organizations."), code="forbidden")
    before = _org_snapshot(org)
    # One conditional statement: of two coordinators clicking at once, exactly one verifies.
    result = db.session.execute(
        update(Organization)
        .where(Organization.id == org.id, Organization.verified_at.is_(None))
        .values(verified_at=utcnow(), verified_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_l("This organization is already verified."), code="already_verified")
    db.session.refresh(org)
    record(actor, "org.verify", org, before=before, after=_org_snapshot(org))
    org_verified.send(org, actor=actor)
    return org


def new_invite_code() -> str:
    """A random, unguessable invite code such as 7KQ2-M9XD-4TPA-WZ3R."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(4 * CODE_GROUPS))
    return "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))


def normalise_invite_code(code: str) -> str:
    """The stored form of a code as typed: upper case, grouped, O/I/L read as 0/1."""
    chars = "".join(ch for ch in (code or "").upper() if ch.isalnum()).translate(_CODE_READS_AS)
    return "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))


def create_invite(org: Organization, actor) -> Invite:
    """A single-use invite code for `org`, valid for INVITE_TTL_DAYS days."""
    if not can_invite(actor, org):
        raise NotAllowed(
            _l("Only members of this organization may invite people to it."),
            code="forbidden",
        )
    now = utcnow()
    invite = Invite(
        code=new_invite_code(),
        organization=org,
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=current_app.config["INVITE_TTL_DAYS"]),
    )
    db.session.add(invite)
    db.session.flush()
    record(
        actor,
        "invite.create",
        invite,
        after={"organization_id": org.id, "expires_at": invite.expires_at},
    )
    return invite


def redeem_invite(code: str, user=None) -> Invite:
    """Use up an invite code (unknown, used and expired codes are refused); return the invite.

    When the joining user exists already, pass it to record who used the code; otherwise
    call mark_invite_used() once it does. Both happen in the caller's transaction, so a
    registration that fails afterwards leaves the code unused.
    """
    field = "invite_code"
    normalised = normalise_invite_code(code)
    if not normalised:
        raise Invalid(_l("Enter the invite code."), field=field)
    invite = db.session.scalar(select(Invite).where(Invite.code == normalised))
    if invite is None:
        raise Invalid(
            _l("This invite code is not known. Check it, or ask your group for a new one."),
            field=field,
            code="invite_unknown",
        )
    if invite.used_at is not None:
        raise Conflict(
            _l("This invite code has already been used. Ask your group for a new one."),
            field=field,
            code="invite_used",
        )
    now = utcnow()
    if invite.expires_at <= now:
        raise Conflict(
            _l("This invite code has expired. Ask your group for a new one."),
            field=field,
            code="invite_expired",
        )
    # Single use even when two people redeem the same code at once: one conditional UPDATE.
    result = db.session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(
            _l("This invite code has already been used. Ask your group for a new one."),
            field=field,
            code="invite_used",
        )
    db.session.refresh(invite)
    if user is not None:
        mark_invite_used(invite, user)
    return invite


def mark_invite_used(invite: Invite, user) -> Invite:
    """Record which user joined with a redeemed invite (audited)."""
    invite.used_by_id = user.id
    db.session.flush()
    record(
        user,
        "invite.redeem",
        invite,
        after={
            "used_by_id": user.id,
            "used_at": invite.used_at,
            "organization_id": invite.organization_id,
        },
    )
    return invite
