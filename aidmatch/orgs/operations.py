"""Organization verbs: create, edit the profile, decide its state (verify, reject, suspend,
un-verify: orgs/lifecycle.py), invite, redeem an invite (the members' verbs: orgs/members.py).
They flush and audit, never commit. A new organization waiting for verification, a
verification, a suspension or a rejection are announced by the signals of orgs/signals.py."""

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
from aidmatch.orgs.lifecycle import TABLE, OrgState
from aidmatch.orgs.models import DONOR_KINDS, Invite, Organization, OrgKind, org_name_key
from aidmatch.orgs.signals import org_verified, org_waiting, org_withdrawn
from aidmatch.permissions import (
    can_decide_on,
    can_decide_orgs,
    can_edit_org,
    can_invite,
)
from aidmatch.refusals import Conflict, Invalid, NotAllowed

MAX_NAME_LENGTH = 200
MAX_CONTACT_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 4000
MAX_REASON_LENGTH = 1000

# Crockford's base32: no I, L, O, U, so a code read aloud or typed on a phone is unambiguous.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS = 4  # 4 groups of 4 characters: 80 random bits
_CODE_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _org_snapshot(org: Organization) -> dict:
    return {
        "name": org.name,
        "kind": org.kind,
        "place_id": org.place_id,
        "state": org.state,
        "verified_at": org.verified_at,
        "verified_by_id": org.verified_by_id,
    }


PROFILE_FIELDS = ("name", "kind", "place_id", "description", "contact", "public_name")


def _profile(org: Organization) -> dict:
    return {name: getattr(org, name) for name in PROFILE_FIELDS}


def find_organization(name: str) -> Organization | None:
    """The organization of this name, compared as org_name_key does (case, spaces)."""
    return db.session.scalar(
        select(Organization).where(Organization.name_key == org_name_key(name))
    )


def check_name_free(name: str) -> None:
    """Refuse (Conflict on "name") a name another organization has, whatever its case."""
    if find_organization(name) is not None:
        raise _duplicate_name()


def create_organization(
    name: str,
    kind: OrgKind,
    actor=None,
    place=None,
    contact: str = "",
    verified: bool = False,
) -> Organization:
    """Create an organization (unverified unless told otherwise); refuse a duplicate name."""
    name, kind, contact = _checked_name(name), _checked_kind(kind), _checked_contact(contact)
    check_name_free(name)

    org = Organization(
        name=name,
        name_key=org_name_key(name),
        kind=kind,
        place=place,
        contact=contact,
        state=OrgState.VERIFIED if verified else OrgState.UNVERIFIED,
        verified_at=utcnow() if verified else None,
        verified_by_id=getattr(actor, "id", None) if verified else None,
    )
    try:
        # A savepoint: a concurrent registration of the same name loses cleanly, not with a 500.
        with db.session.begin_nested():
            db.session.add(org)
    except IntegrityError:
        raise _duplicate_name() from None
    record(actor, "org.create", org, after=_org_snapshot(org))
    if org.verified_at is None:
        org_waiting.send(org, actor=actor)
    return org


def verify_organization(org: Organization, actor, reason: str = "", note: str = ""):
    """Mark an organization verified (decide "verify"): reason and note as decide() asks."""
    return decide(org, "verify", actor, reason=reason, note=note)


def decide(org: Organization, decision: str, actor, reason: str = "", note: str = ""):
    """A coordinator's decision on an organization (a row of orgs/lifecycle.TABLE): verify,
    reject, suspend or un-verify, with a reason (required) and a note of how it was checked
    (optional); both kept on the organization and in the audit trail. One conditional UPDATE:
    of two coordinators deciding at once, exactly one does; a decision the state does not
    allow is refused with the table's words. Verified_at follows the state."""
    if not can_decide_orgs(actor):
        raise NotAllowed(_l("Only coordinators and admins verify organizations."), code="forbidden")
    if not can_decide_on(actor, org):
        raise NotAllowed(
            _l("Another coordinator decides about your own organization."), code="forbidden"
        )
    row = TABLE.get(decision)
    if row is None:
        raise Invalid(_l("Choose what to do with this organization."), field="decision")
    if org.state not in row.sources:
        code = "already_verified" if row.target == OrgState.VERIFIED else "wrong_state"
        raise Conflict(row.refusal, code=code)
    reason, note = (reason or "").strip(), (note or "").strip()
    problems = {}
    if not reason:
        problems["reason"] = _l("Say why, for the audit trail and the organization's members.")
    for name, value in (("reason", reason), ("note", note)):
        if len(value) > MAX_REASON_LENGTH:
            problems[name] = _l("Use at most %(num)d characters.", num=MAX_REASON_LENGTH)
    if problems:
        raise Invalid(next(iter(problems.values())), fields=problems)
    before = {**_org_snapshot(org), "reason": org.decision_reason, "note": org.decision_note}
    now = utcnow()
    verified = row.target == OrgState.VERIFIED
    result = db.session.execute(
        update(Organization)
        .where(Organization.id == org.id, Organization.state.in_(sorted(row.sources)))
        .values(
            state=row.target,
            verified_at=now if verified else None,
            verified_by_id=actor.id if verified else None,
            decided_at=now,
            decided_by_id=actor.id,
            decision_reason=reason,
            decision_note=note,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        code = "already_verified" if verified else "wrong_state"
        raise Conflict(row.refusal, code=code)
    db.session.refresh(org)
    after = {**_org_snapshot(org), "reason": reason, "note": note}
    record(actor, f"org.{row.name}", org, before=before, after=after)
    if verified:
        org_verified.send(org, actor=actor)
    elif row.tells:
        org_withdrawn.send(org, actor=actor, kind=row.tells, reason=reason)
    return org


def _checked_name(name) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid(_l("Enter the organization's name."), field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise Invalid(_l("Use at most %(num)d characters.", num=MAX_NAME_LENGTH), field="name")
    return name


def _checked_kind(kind) -> OrgKind:
    try:
        return OrgKind(kind)
    except ValueError:
        raise Invalid(_l("Choose the kind of organization."), field="kind") from None


def _checked_contact(contact) -> str:
    contact = (contact or "").strip()
    if len(contact) > MAX_CONTACT_LENGTH:
        raise Invalid(
            _l("Use at most %(num)d characters.", num=MAX_CONTACT_LENGTH), field="contact"
        )
    return contact


def _duplicate_name() -> Conflict:
    return Conflict(_l("An organization with this name is already registered."), field="name")


def update_organization(org: Organization, actor, data: dict) -> Organization:
    """Edit an organization's profile: name, kind, settlement (place), description, contact,
    whether the transparency page may name it (``public_name``). Its owners and staff only.
    The kind changes only within a side (a donor collective may become a supply collective):
    its members' roles follow from it. Only what changed is audited ("org.update")."""
    if not can_edit_org(actor, org):
        raise NotAllowed(
            _l("Only the owners of this organization and coordinators may edit it."),
            code="forbidden",
        )
    problems: dict = {}
    values: dict = {}
    checks = (
        ("name", _checked_name),
        ("kind", _checked_kind),
        ("contact", _checked_contact),
        ("description", _checked_description),
    )
    for name, check in checks:
        if name not in data:
            continue
        try:
            values[name] = check(data[name])
        except Invalid as err:
            problems[name] = err.raw_message
    kind = values.get("kind")
    if kind is not None and (kind in DONOR_KINDS) != (org.kind in DONOR_KINDS):
        problems["kind"] = _l(
            "A frontline group cannot become a donor or supply collective, nor the other way "
            "round: its members' roles depend on it. Register a new organization instead."
        )
    name = values.get("name")
    if name is not None and "name" not in problems:
        other = find_organization(name)
        if other is not None and other.id != org.id:
            problems["name"] = _duplicate_name().raw_message
    if "place" in data:
        values["place"] = data["place"]
    if "public_name" in data:
        values["public_name"] = bool(data["public_name"])
    if problems:
        raise Invalid(next(iter(problems.values())), fields=problems)
    before = _profile(org)
    for key, value in values.items():
        setattr(org, key, value)
    if "name" in values:
        org.name_key = org_name_key(org.name)
    try:
        with db.session.begin_nested():  # a concurrent rename to the same name loses cleanly
            db.session.flush()
    except IntegrityError:
        raise _duplicate_name() from None
    after = _profile(org)
    changed = [key for key in PROFILE_FIELDS if before[key] != after[key]]
    if changed:
        record(
            actor,
            "org.update",
            org,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return org


def _checked_description(description) -> str:
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise Invalid(
            _l("Use at most %(num)d characters.", num=MAX_DESCRIPTION_LENGTH),
            field="description",
        )
    return description


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
