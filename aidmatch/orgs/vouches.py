"""Groups vouching for groups: a verified organization vouches for an unverified one ("we
know them, we have worked with them") with a sentence of why; a voucher may withdraw it.

The badge's rule (``vouched_clause``, the one home; ``is_vouched`` and ``vouched_ids`` read it
for loaded organizations): an organization is *vouched* while at least VOUCHES_NEEDED active
vouches come from verified organizations whose settlement lies in the same oblast as its own
or a neighbouring one (places/neighbours.py), and it is not rejected or suspended (a
coordinator's decision overrides). Donors see the badge, never who vouched
(permissions.can_see_vouchers: coordinators); the privacy policy lets donors see a vouched
group's non-sensitive needs while its verification waits (VOUCHED_NEEDS_SHOWN, on by default:
privacy/policy.Viewer.rows_clause). Every vouch and withdrawal is in the audit trail
(``vouch.create``, ``vouch.withdraw``); a rejection or suspension of a vouched-for
organization is told to its vouchers and the coordinators (notify/events.py).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from aidmatch.audit.operations import record
from aidmatch.cache import remember
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.orgs.lifecycle import WITHDRAWN, OrgState
from aidmatch.orgs.models import Organization, Vouch
from aidmatch.permissions import can_vouch, can_withdraw_vouch
from aidmatch.places.models import Place
from aidmatch.places.neighbours import near_pairs
from aidmatch.refusals import Conflict, Invalid, NotAllowed, NotFound
from aidmatch.web.text import text_problem

VOUCHES_NEEDED = 2
REASON_MAX = 300  # a sentence or two

# --- the rule ------------------------------------------------------------------------------


def vouched_clause(org=Organization):
    """SQL: this organization (the model, or an alias of it, in the enclosing statement) is
    vouched for: VOUCHES_NEEDED active vouches from verified organizations in its oblast or a
    neighbouring one, and it is not suspended or rejected."""
    voucher = aliased(Organization)
    voucher_place = aliased(Place)
    # The organization's own oblast, correlated to the organization of the enclosing
    # statement (two levels up: said explicitly, else the organizations table would be read
    # anew here and any of its rows' oblasts taken).
    own_oblast = (
        select(Place.oblast).where(Place.id == org.place_id).correlate(org).scalar_subquery()
    )
    counted = (
        select(func.count(Vouch.id))
        .join(voucher, voucher.id == Vouch.voucher_id)
        .join(voucher_place, voucher_place.id == voucher.place_id)
        .where(
            Vouch.vouched_id == org.id,
            Vouch.withdrawn_at.is_(None),
            voucher.verified_at.is_not(None),
            tuple_(voucher_place.oblast, own_oblast).in_(near_pairs()),
        )
        .correlate(org)
        .scalar_subquery()
    )
    return and_(org.state.not_in(sorted(WITHDRAWN)), counted >= VOUCHES_NEEDED)


def vouched_ids(org_ids) -> set[int]:
    """The ids among these organizations' that are vouched for (one query)."""
    ids = sorted({i for i in org_ids if i is not None})
    if not ids:
        return set()
    stmt = select(Organization.id).where(Organization.id.in_(ids), vouched_clause())
    return set(db.session.scalars(stmt))


def waiting_vouched_ids() -> frozenset[int]:
    """The organizations still waiting for a coordinator that are vouched for (vouched_clause):
    whose non-sensitive needs a donor's lists add to the verified groups'. One short query,
    kept for the generation of the data (any vouch, withdrawal or decision starts a new one),
    so a list's own statement carries a plain id list, not the rule's subquery per row."""

    def compute() -> tuple[int, ...]:
        waiting = Organization.verified_at.is_(None)
        stmt = select(Organization.id).where(waiting, vouched_clause()).order_by(Organization.id)
        return tuple(db.session.scalars(stmt))

    return frozenset(remember("orgs.waiting_vouched", (), compute))


def is_vouched(org) -> bool:
    """Whether this organization is vouched for (vouched_clause, for one loaded row)."""
    return org is not None and org.id is not None and org.id in vouched_ids([org.id])


# --- the verbs -----------------------------------------------------------------------------


def _snapshot(vouch: Vouch) -> dict:
    return {
        "voucher_id": vouch.voucher_id,
        "vouched_id": vouch.vouched_id,
        "reason": vouch.reason,
        "withdrawn_at": vouch.withdrawn_at,
    }


def clean_reason(value) -> str:
    """The sentence of why, as stored: spaces folded, required, at most REASON_MAX characters;
    Invalid naming the field "reason" otherwise."""
    if not isinstance(value, str):
        raise Invalid(_l("Must be text."), field="reason")
    problem = text_problem(value)
    if problem:
        raise Invalid(problem, field="reason")
    value = " ".join(value.split())
    if not value:
        raise Invalid(
            _l("Say in a sentence how you know them, for the coordinators."), field="reason"
        )
    if len(value) > REASON_MAX:
        raise Invalid(_l("Use at most %(num)d characters.", num=REASON_MAX), field="reason")
    return value


def _already(vouched: Organization) -> Conflict:
    return Conflict(
        _l("Your organization already vouches for %(org)s.", org=vouched.name),
        code="already_vouched",
    )


def vouch(voucher: Organization, vouched: Organization, actor, reason) -> Vouch:
    """``voucher`` (the actor's verified organization) vouches for ``vouched`` (waiting for
    verification), with a sentence of why. Refused: anyone but an owner of a verified
    organization, for itself, for an organization not waiting for verification, twice, or
    without a reason (or with one too long)."""
    if not can_vouch(actor, voucher):
        raise NotAllowed(
            _l("Only an owner of a verified organization may vouch for another."),
            code="forbidden",
        )
    if vouched.id == voucher.id:
        raise Conflict(_l("An organization cannot vouch for itself."), code="oneself")
    if vouched.state != OrgState.UNVERIFIED:
        raise Conflict(
            _l("Only an organization waiting for verification can be vouched for."),
            code="wrong_state",
        )
    reason = clean_reason(reason)
    active = db.session.scalar(
        select(Vouch.id).where(
            Vouch.voucher_id == voucher.id,
            Vouch.vouched_id == vouched.id,
            Vouch.withdrawn_at.is_(None),
        )
    )
    if active is not None:
        raise _already(vouched)
    row = Vouch(voucher=voucher, vouched=vouched, reason=reason, created_by_id=actor.id)
    try:
        with db.session.begin_nested():  # two owners vouching at once: one vouch
            db.session.add(row)
    except IntegrityError:
        raise _already(vouched) from None
    record(actor, "vouch.create", row, after=_snapshot(row))
    return row


def get_vouch(vouch_id) -> Vouch:
    """A vouch by its id (NotFound otherwise)."""
    row = db.session.get(Vouch, vouch_id) if isinstance(vouch_id, int) else None
    if row is None:
        raise NotFound(_l("No such vouch."))
    return row


def withdraw(row: Vouch, actor) -> Vouch:
    """An owner of the vouching organization takes its vouch back (once: a conditional
    UPDATE); the row stays, with when and by whom."""
    if not can_withdraw_vouch(actor, row.voucher):
        raise NotAllowed(
            _l("Only the owners of the organization that vouched may withdraw it."),
            code="forbidden",
        )
    now = utcnow()
    result = db.session.execute(
        update(Vouch)
        .where(Vouch.id == row.id, Vouch.withdrawn_at.is_(None))
        .values(withdrawn_at=now, withdrawn_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_l("This vouch was already withdrawn."), code="already_withdrawn")
    db.session.refresh(row)
    record(actor, "vouch.withdraw", row, before={"withdrawn_at": None}, after=_snapshot(row))
    return row


# --- reads ---------------------------------------------------------------------------------


def _listed(stmt):
    return db.session.scalars(
        stmt.options(
            joinedload(Vouch.voucher),
            joinedload(Vouch.vouched),
            joinedload(Vouch.created_by),
        ).order_by(Vouch.created_at.desc(), Vouch.id.desc())
    ).all()


def vouches_for(org: Organization, active_only: bool = False) -> list[Vouch]:
    """Who vouched for this organization (newest first): for coordinators only, and for
    telling the vouchers of a decision."""
    stmt = select(Vouch).where(Vouch.vouched_id == org.id)
    if active_only:
        stmt = stmt.where(Vouch.withdrawn_at.is_(None))
    return _listed(stmt)


def vouches_by(org: Organization) -> list[Vouch]:
    """The vouches this organization made (its members see them on its page)."""
    return _listed(select(Vouch).where(Vouch.voucher_id == org.id))


def all_vouches_query(active: bool | None = None):
    """Every vouch, newest first (the coordinators' list): active, withdrawn, or both."""
    stmt = select(Vouch).options(
        joinedload(Vouch.voucher), joinedload(Vouch.vouched), joinedload(Vouch.created_by)
    )
    if active is True:
        stmt = stmt.where(Vouch.withdrawn_at.is_(None))
    elif active is False:
        stmt = stmt.where(Vouch.withdrawn_at.is_not(None))
    return stmt.order_by(Vouch.created_at.desc(), Vouch.id.desc())
