"""Verbs on needs and offers, generic over their Kind: post (once per Idempotency-Key), edit,
end (cancel or withdraw) and expire. They flush and audit; the caller commits."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import not_, select, update
from sqlalchemy.exc import IntegrityError

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.geo import coarse_point
from aidmatch.places.models import Place
from aidmatch.postings.kind import Kind
from aidmatch.postings.models import OPEN
from aidmatch.postings.validate import (
    FieldErrors,
    clean_common,
    clean_idempotency_key,
    invalid,
)
from aidmatch.refusals import Conflict, NotAllowed, Refusal


def clean(kind: Kind, data: dict, today: date, partial: bool, current=None) -> dict:
    """Validate posted fields (all of them, or only those given when partial); 422 naming
    every field that is wrong."""
    errors = FieldErrors()

    def given(field: str) -> bool:
        return not partial or field in data

    out = clean_common(errors, data, given, current)
    out.update(kind.clean_own(errors, data, given, current, today))
    errors.raise_if_any()
    return out


def place_point(obj, place: Place, lat: float, lon: float, point_set: bool) -> None:
    """Set the place, the point (point_set: the organization gave it; else it is the place's
    centre) and the coarse public point of a need or offer."""
    obj.place = place
    obj.lat, obj.lon, obj.point_set = lat, lon, point_set
    obj.public_lat, obj.public_lon, _precision = coarse_point(lat, lon)


def refresh_search_text(obj) -> None:
    """Keep the case-folded text that free-text search matches against in step."""
    obj.search_text = f"{obj.title or ''}\n{obj.description or ''}".casefold()


def snapshot(obj, fields: tuple[str, ...]) -> dict:
    """The values of some fields, for the audit trail's before/after."""
    return {field: getattr(obj, field) for field in fields}


def audit_changes(actor, action: str, obj, before: dict, fields: tuple[str, ...]) -> None:
    """Record an update with only the fields that changed (nothing when none did)."""
    from aidmatch.audit.operations import record

    after = snapshot(obj, fields)
    changed = [k for k in fields if after[k] != before[k]]
    if changed:
        before = {k: before[k] for k in changed}
        record(actor, action, obj, before=before, after={k: after[k] for k in changed})


@dataclass(frozen=True)
class Posted:
    """A need or offer, and whether this call made it (False: its Idempotency-Key had made it
    before, and it is returned as it is now)."""

    obj: Any
    created: bool


class KeyReused(Conflict):
    """409: an Idempotency-Key that already made a need or offer came with other content.
    existing_id names what the key made (a form leads there instead of failing)."""

    def __init__(self, message, existing_id: int):
        super().__init__(message, field="idempotency_key")
        self.existing_id = existing_id


def find_posting(model, org, key: str | None):
    """The need or offer (by model) an organization already made with this key, if any."""
    if not key or org is None:
        return None
    return db.session.scalar(
        select(model).where(model.organization_id == org.id, model.idempotency_key == key)
    )


def request_digest(sent: dict) -> str:
    """A fingerprint of what a request asked to post (its cleaned values), kept with the row:
    a repeat of the key is compared with what the first request sent, not with the row as
    later edits left it."""
    text = json.dumps(sent, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def post_once(
    model, org, key: str | None, make: Callable[[str | None], Any], sent: dict, refusal
) -> Posted:
    """Make a need or offer once per key: make(digest) adds and flushes a row carrying key and
    the digest of `sent` (what this request asks to post), unless the organization already
    has a row with that key; that row is then returned if it was made from the same content
    (even if edited since), else refused (409, with `refusal` as the message).

    Two requests with the same key at once: the unique index on (organization_id,
    idempotency_key) lets one insert through; the other fails inside a savepoint (only that
    attempt is undone) and finds the winner's row. On PostgreSQL the loser's insert waits for
    the winner's commit; on SQLite BEGIN IMMEDIATE already queued it behind the winner.
    """
    digest = request_digest(sent) if key is not None else None
    existing = find_posting(model, org, key)
    if existing is None:
        if key is None:
            return Posted(make(None), created=True)
        try:
            with db.session.begin_nested():
                return Posted(make(digest), created=True)
        except IntegrityError:
            existing = find_posting(model, org, key)
            if existing is None:
                raise
    if existing.idempotency_digest != digest:
        raise KeyReused(refusal, existing.id)
    return Posted(existing, created=False)


@dataclass(frozen=True)
class _Cleaned:
    """A posting's cleaned values, ready to make its row: what it asks to post (`sent`, for
    the idempotency digest) and where."""

    values: dict
    category: Any
    location: tuple
    sent: dict


def _cleaned(kind: Kind, data: dict, today: date) -> _Cleaned:
    values = clean(kind, data, today, partial=False)
    location = values.pop("location")
    place, lat, lon, _point_set = location
    category = values.pop("category")
    sent = {**values, "category_id": category.id, "place_id": place.id, "lat": lat, "lon": lon}
    return _Cleaned(values, category, location, sent)


def _new_row(kind: Kind, org, actor, cleaned: _Cleaned, key: str | None, digest: str | None):
    """A new need's or offer's row (added to the session, not flushed)."""
    obj = kind.model(
        organization=org,
        created_by_id=getattr(actor, "id", None),
        category=cleaned.category,
        status=OPEN,
        idempotency_key=key,
        idempotency_digest=digest,
        **cleaned.values,
        **kind.derive(cleaned.values),
    )
    place_point(obj, *cleaned.location)
    refresh_search_text(obj)
    db.session.add(obj)
    return obj


def _created(kind: Kind, obj) -> dict:
    """What the audit trail records of a new need or offer."""
    return {**snapshot(obj, kind.audited), "idempotency_key": obj.idempotency_key}


def post(
    kind: Kind, org, data: dict, actor, today: date | None = None, idempotency_key=None
) -> Posted:
    """Post a need or offer for an organization that may (403 otherwise, before the data is
    looked at); 422 with per-field messages on bad input.

    With an Idempotency-Key (a form's one-time token, or the API's header), a repeat returns
    what the first request posted (created False), also when both arrive at once; the same
    key with other content is refused (409, KeyReused naming the first one).
    """
    from aidmatch.audit.operations import record

    if not kind.may_post(org):
        raise NotAllowed(kind.say("may_not_post"))
    key = clean_idempotency_key(idempotency_key)
    cleaned = _cleaned(kind, data, today or utcnow().date())

    def make(digest: str | None):
        obj = _new_row(kind, org, actor, cleaned, key, digest)
        db.session.flush()
        record(actor, f"{kind.name}.create", obj, after=_created(kind, obj))
        return obj

    return post_once(kind.model, org, key, make, cleaned.sent, kind.say("key_reused"))


def post_many(
    kind: Kind, org, items: list[tuple[dict, str]], actor, today: date | None = None
) -> list[Posted | Refusal]:
    """Post several needs or offers (a spreadsheet's rows), each (data, Idempotency-Key) as
    post() would, answering each with its Posted or its refusal: the same validation, rows,
    audit events and keys, but one query for the keys already used, one flush and one
    INSERT of the audit events for all. When a key was taken meanwhile (a confirmation sent
    twice at once), the batch is undone and each item goes through post() (its race rules).
    """
    from aidmatch.audit.operations import jsonable, record_all

    if not kind.may_post(org):
        raise NotAllowed(kind.say("may_not_post"))
    today = today or utcnow().date()
    answers: list[Posted | Refusal | None] = []
    ready: list[tuple[int, str, _Cleaned]] = []
    for data, key in items:
        try:
            key = clean_idempotency_key(key)
            if key is None:
                raise ValueError("post_many needs an Idempotency-Key per item")
            ready.append((len(answers), key, _cleaned(kind, data, today)))
            answers.append(None)
        except Refusal as exc:
            answers.append(exc)
    model = kind.model
    keys = [key for _i, key, _c in ready]
    existing = {
        obj.idempotency_key: obj
        for start in range(0, len(keys), 500)
        for obj in db.session.scalars(
            select(model).where(
                model.organization_id == org.id,
                model.idempotency_key.in_(keys[start : start + 500]),
            )
        )
    }
    made = []
    try:
        with db.session.begin_nested():
            for i, key, cleaned in ready:
                digest = request_digest(cleaned.sent)
                first = existing.get(key)
                if first is None:
                    obj = existing[key] = _new_row(kind, org, actor, cleaned, key, digest)
                    made.append(obj)
                    answers[i] = Posted(obj, created=True)
                elif first.idempotency_digest != digest:
                    answers[i] = KeyReused(kind.say("key_reused"), first.id)
                else:
                    answers[i] = Posted(first, created=first in made)
            db.session.flush()
    except IntegrityError:
        answers = []
        for data, key in items:
            try:
                answers.append(post(kind, org, data, actor, today, key))
            except Refusal as exc:
                answers.append(exc)
        return answers
    afters = [(obj.id, jsonable(_created(kind, obj))) for obj in made]
    record_all(actor, f"{kind.name}.create", model.__tablename__, afters)
    return answers


def create(kind: Kind, org, data: dict, actor, today: date | None = None, idempotency_key=None):
    """Post a need or offer (see post); return it."""
    return post(kind, org, data, actor, today, idempotency_key).obj


def may_change(user, obj) -> bool:
    """Members of the owning organization edit and end its needs and offers."""
    from aidmatch.permissions import is_member

    return is_member(user, obj.organization)


def set_quantity(obj, quantity: int, held: str) -> None:
    """Change a need's or offer's quantity in one conditional UPDATE: never below what its
    matches hold (`held` is "pledged" or "allocated"), even with a claim landing meanwhile."""
    model = type(obj)
    held_column = getattr(model, held)
    changed = db.session.execute(
        update(model)
        .where(model.id == obj.id, held_column <= quantity)
        .values(quantity=quantity, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(obj, ["quantity", held])
    if not changed:
        n = getattr(obj, held)
        raise invalid(
            _("%(n)d are already pledged: the quantity cannot be less.", n=n),
            {"quantity": _("At least %(n)d (already pledged).", n=n)},
        )


def edit(kind: Kind, obj, data: dict, actor, today: date | None = None):
    """Edit an open need or offer; the quantity may not drop below what its matches hold."""
    if obj.effective_status != OPEN:
        raise Conflict(kind.say("not_editable", s=obj.effective_status))
    today = today or utcnow().date()
    values = clean(kind, {k: v for k, v in data.items() if k in kind.editable}, today, True, obj)
    before = snapshot(obj, kind.audited)
    if "quantity" in values:
        set_quantity(obj, values.pop("quantity"), kind.held)
    if "location" in values:
        place_point(obj, *values.pop("location"))
    for column, value in {**values, **kind.derive(values)}.items():
        setattr(obj, column, value)
    refresh_search_text(obj)
    db.session.flush()
    audit_changes(actor, f"{kind.name}.update", obj, before, kind.audited)
    return obj


# How a need's or an offer's matches end with it: the matches package (above postings)
# registers its two steps with end_matches_with() on import.
_match_ending: dict = {}


def end_matches_with(lock, cancel) -> None:
    """Register how end() treats matches: lock(need=|offer=) takes the locks before the
    status changes, cancel(actor, reason=, said=, need=|offer=) cancels those not yet shipped
    (reason: what is stored, said: what the actor typed, told to the other side) and returns
    how many."""
    _match_ending.update(lock=lock, cancel=cancel)


def end(kind: Kind, obj, actor, reason: str = ""):
    """Cancel a need or withdraw an offer, and cancel its matches not yet shipped.

    The status changes by one conditional UPDATE (so two concurrent cancellations, or a
    cancellation racing a claim, resolve in the database), in the transaction that also
    cancels the matches and writes the audit event; one past its date reads as expired and
    is refused (409) like a stored expired one. Returns the need or offer.
    """
    from aidmatch.audit.operations import record

    if not _match_ending:
        raise RuntimeError("aidmatch.matches.operations registers how matches end with a posting")
    lock_for_cancellation, cancel_active_matches = _match_ending["lock"], _match_ending["cancel"]
    model = type(obj)
    action = f"{kind.name}.{kind.end_verb}"
    target = {kind.name: obj}
    # Lock in the global order (needs, then the offer) before touching the row, as claims do.
    lock_for_cancellation(**target)
    before = {"status": obj.status}
    changed = db.session.execute(
        update(model)
        .where(model.id == obj.id, model.status.in_(kind.end_from), not_(model.stale()))
        .values(status=kind.end_status, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(obj, ["status"])
    if not changed:
        raise Conflict(kind.say("not_endable", s=obj.effective_status))
    cancelled = cancel_active_matches(actor, reason=reason or action, said=reason, **target)
    after = {"status": obj.status, "reason": reason, "matches_cancelled": cancelled}
    record(actor, action, obj, before=before, after=after)
    return obj


def expire_stale(kind: Kind, today: date | None = None, ids: list[int] | None = None) -> int:
    """Store `expired` on open needs or offers whose date has passed (all, or among ids) and
    audit each: for `flask expire` and scheduled jobs, never for a read."""
    from aidmatch.audit.operations import record

    model = kind.model
    stmt = select(model.id).where(model.stale(today or utcnow().date()))
    if ids is not None:
        if not ids:
            return 0
        stmt = stmt.where(model.id.in_(ids))
    stale = list(db.session.scalars(stmt))
    if not stale:
        return 0
    db.session.execute(
        update(model)
        .where(model.id.in_(stale), model.status == OPEN)
        .values(status="expired", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    for obj in db.session.scalars(select(model).where(model.id.in_(stale))):
        db.session.refresh(obj, ["status"])
        before, after = {"status": OPEN}, {"status": "expired"}
        record(None, f"{kind.name}.expire", obj, before=before, after=after)
    return len(stale)


def verbs_for(kind: Kind) -> tuple:
    """A kind's verbs, bound to it: (post, create, edit, end, expire, may the user post)."""

    def may_user_post(user) -> bool:
        return kind.may_post(user.organization if user and user.is_authenticated else None)

    bound = (post, create, edit, end, expire_stale)
    return (*(partial(verb, kind) for verb in bound), may_user_post)
