"""Verbs on recurring offers: make an offer repeat, change, pause, resume, stop (members of
the offer's collective; each audited, flushed, never committed), and the rule of what each
period makes available (periods.py says when periods fall, opening.py opens and closes them).

- Making an offer repeat: every week or month, a quantity per period, from a start date
  (today or later), until an end date or until stopped; carry_over adds what a period did
  not use to the next one. Starting today, the offer itself is the first period (its
  quantity becomes the quantity per period, its available-until the period's last day);
  starting later, it stays as it is and the first period opens on the start date.
- A change (quantity per period, end date, carry-over) counts from the next period on; the
  current period's offer is edited like any offer.
- Pausing opens no period while paused (the current one runs to its end); resuming opens
  the current period at once, if the series still runs. Stopping opens none any more.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from aidmatch.audit.operations import record
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.offers.models import Offer
from aidmatch.postings.operations import may_change
from aidmatch.postings.validate import FieldErrors, clean_quantity
from aidmatch.recurring.models import Every, Recurrence, RecurrencePeriod
from aidmatch.recurring.opening import adopt_first_period, open_due
from aidmatch.refusals import Conflict, NotAllowed

ALREADY = _l("This offer repeats already: change, pause or stop it instead.")
START_WITHIN = timedelta(days=366)  # a series begins within a year, or it is not a pledge yet
AUDITED = ("every", "quantity", "starts_on", "ends_on", "carry_over", "paused_at", "stopped_at")


def recurrence_of(offer: Offer) -> Recurrence | None:
    """The series this offer is the first of, or a period of (None: a one-off offer)."""
    found = db.session.scalar(select(Recurrence).where(Recurrence.offer_id == offer.id))
    if found is not None:
        return found
    return db.session.scalar(
        select(Recurrence)
        .join(RecurrencePeriod, RecurrencePeriod.recurrence_id == Recurrence.id)
        .where(RecurrencePeriod.offer_id == offer.id)
    )


def period_of(offer: Offer) -> RecurrencePeriod | None:
    """The period this offer makes available, if it is one."""
    return db.session.scalar(select(RecurrencePeriod).where(RecurrencePeriod.offer_id == offer.id))


def _date(errors: FieldErrors, value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    elif isinstance(value, date) and not isinstance(value, datetime):
        return value
    errors.add(field, _("Use a date like 2026-12-31."))
    return None


YES, NO = ("y", "yes", "true", "1", "on"), ("n", "no", "false", "0", "off")


def _flag(errors: FieldErrors, value, field: str) -> bool:
    """Yes or no: a bool, or a form's or a spreadsheet's words for one (empty: no)."""
    if value in (None, ""):
        return False
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in YES or word in NO:
        return word in YES
    errors.add(field, _("Answer yes or no."))
    return False


def clean(data: dict, today: date, current: Recurrence | None = None) -> dict:
    """A recurrence's fields (all when new; on a change only those given, and never its
    period or start): 422 naming every field that is wrong."""
    errors = FieldErrors()
    out: dict = {}
    new = current is None
    if new:
        every = data.get("every")
        if every not in {e.value for e in Every}:
            errors.add("every", _("Choose every week or every month."))
        else:
            out["every"] = Every(every)
        starts_on = _date(errors, data.get("starts_on"), "starts_on") or today
        if "starts_on" not in errors.fields and starts_on < today:
            errors.add("starts_on", _("The start may not be in the past."))
        elif "starts_on" not in errors.fields and starts_on > today + START_WITHIN:
            errors.add("starts_on", _("The first period must start within a year."))
        out["starts_on"] = starts_on
    elif "every" in data or "starts_on" in data:
        field = "every" if "every" in data else "starts_on"
        errors.add(
            field,
            _(
                "The period and the start of a series cannot change: stop it and "
                "make the offer repeat anew."
            ),
        )
    if new or "quantity" in data:
        out["quantity"] = clean_quantity(errors, data.get("quantity"))
    if new or "ends_on" in data:
        ends_on = _date(errors, data.get("ends_on"), "ends_on")
        starts_on = out.get("starts_on") or (current.starts_on if current else today)
        if ends_on is not None and "ends_on" not in errors.fields:
            if ends_on < starts_on:
                errors.add("ends_on", _("The end may not be before the start."))
            elif ends_on < today:
                errors.add("ends_on", _("The end may not be in the past."))
        out["ends_on"] = ends_on
    if new or "carry_over" in data:
        out["carry_over"] = _flag(errors, data.get("carry_over"), "carry_over")
    errors.raise_if_any()
    return out


def check_member(actor, offer: Offer) -> None:
    if not may_change(actor, offer):
        raise NotAllowed(
            _("Only members of the collective that posted this offer may change how it repeats.")
        )


def snapshot(rec: Recurrence) -> dict:
    """What the audit trail records of a recurrence."""
    return {field: getattr(rec, field) for field in AUDITED}


def make_recurring(offer: Offer, data: dict, actor, now: datetime | None = None) -> Recurrence:
    """Make an open one-off offer repeat (see the module docstring); 403 for a non-member,
    409 for an offer that is not open or repeats already, 422 for bad fields."""
    check_member(actor, offer)
    now = now or utcnow()
    today = now.date()
    if offer.status != "open" or (offer.available_until and offer.available_until < today):
        raise Conflict(_("Only an open offer can be made to repeat."))
    if recurrence_of(offer) is not None:
        raise Conflict(ALREADY)
    values = clean(data, today)
    rec = Recurrence(
        offer_id=offer.id,
        organization_id=offer.organization_id,
        created_by_id=getattr(actor, "id", None),
        **values,
    )
    try:  # one series per offer (a unique key): of two sent at once, the second is told so
        with db.session.begin_nested():
            db.session.add(rec)
    except IntegrityError:
        raise Conflict(ALREADY) from None
    if rec.starts_on == today:
        adopt_first_period(rec, now)
    record(actor, "offer.repeat", offer, after=snapshot(rec))
    open_due(rec, now)
    return rec


def _changing(rec: Recurrence, actor, verb: str, change, now: datetime | None) -> Recurrence:
    check_member(actor, rec.offer)
    now = now or utcnow()
    before = snapshot(rec)
    change(now)
    db.session.flush()
    after = snapshot(rec)
    changed = [k for k in AUDITED if before[k] != after[k]]
    record(
        actor,
        f"offer.repeat_{verb}",
        rec.offer,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    return rec


def _not_stopped(rec: Recurrence) -> None:
    if rec.stopped_at is not None:
        raise Conflict(_("This offer no longer repeats: it was stopped."))


def change(rec: Recurrence, data: dict, actor, now: datetime | None = None) -> Recurrence:
    """Change the quantity per period, the end date or the carry-over, from the next period on."""
    _not_stopped(rec)

    def apply(now):
        for field, value in clean(data, now.date(), current=rec).items():
            setattr(rec, field, value)

    return _changing(rec, actor, "change", apply, now)


def pause(rec: Recurrence, actor, now: datetime | None = None) -> Recurrence:
    """Open no period until resumed; 409 when stopped or paused already."""
    _not_stopped(rec)
    if rec.paused_at is not None:
        raise Conflict(_("This offer is paused already."))

    def apply(now):
        rec.paused_at = now

    return _changing(rec, actor, "pause", apply, now)


def resume(rec: Recurrence, actor, now: datetime | None = None) -> Recurrence:
    """Open periods again, the current one at once; 409 when stopped or not paused."""
    _not_stopped(rec)
    if rec.paused_at is None:
        raise Conflict(_("This offer is not paused."))

    def apply(now):
        rec.paused_at = None
        db.session.flush()
        open_due(rec, now)

    return _changing(rec, actor, "resume", apply, now)


def stop(rec: Recurrence, actor, now: datetime | None = None) -> Recurrence:
    """Open no period any more (the current one runs to its end); 409 when stopped already."""
    _not_stopped(rec)

    def apply(now):
        rec.stopped_at = now
        rec.paused_at = None

    return _changing(rec, actor, "stop", apply, now)


def periods_of(rec: Recurrence) -> list[RecurrencePeriod]:
    """The series' periods, latest first."""
    return list(
        db.session.scalars(
            select(RecurrencePeriod)
            .where(RecurrencePeriod.recurrence_id == rec.id)
            .order_by(RecurrencePeriod.starts_on.desc())
        )
    )


def summary(rec: Recurrence, viewer, today: date | None = None) -> dict:
    """What comes regularly and when the next one is due, for anyone who may see the offer;
    the periods (what each made available, left unused, whether it was missed) for the
    offer's collective and staff only."""
    from aidmatch.permissions import is_staff
    from aidmatch.recurring.periods import next_due

    today = today or utcnow().date()
    periods = periods_of(rec)
    current = next((p for p in periods if p.starts_on <= today < p.ends_on), None)
    own = is_staff(viewer) or may_change(viewer, rec.offer)
    out = {
        "id": rec.id,
        "offer_id": rec.offer_id,
        "every": str(rec.every),
        "quantity": rec.quantity,
        "unit": str(rec.offer.category.unit),
        "starts_on": rec.starts_on,
        "ends_on": rec.ends_on,
        "carry_over": rec.carry_over,
        "paused": rec.paused_at is not None,
        "stopped": rec.stopped_at is not None,
        "next_due": next_due(rec, today),
        "current": None if current is None else _period(current),
        "missed": sum(p.missed_at is not None for p in periods) if own else None,
    }
    if own:
        out["periods"] = [_period(p) for p in periods]
    return out


def _period(period: RecurrencePeriod) -> dict:
    return {
        "starts_on": period.starts_on,
        "ends_on": period.ends_on,
        "offer_id": period.offer_id,
        "quantity": period.quantity,
        "carried": period.carried,
        "unused": period.unused,
        "missed": period.missed_at is not None,
    }
