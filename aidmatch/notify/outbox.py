"""Writing the outbox, and handing it to the channels.

``tell`` writes a notification per recipient and a delivery per channel the recipient gets it
on, in the caller's transaction, and enqueues their delivery after the commit: a change that
rolls back tells nobody (``tell_all``: many tells in a few queries, for jobs). ``deliver`` (a
task) claims deliveries with one conditional UPDATE, sends each through its channel and
records the outcome at once; ``sweep`` (every minute, and when a worker starts) hands the
queue whatever a lost enqueue or a killed worker left behind.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import after_commit, enqueue, periodic, task
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.models import Channel, Delivery, DeliveryStatus, Notification
from aidmatch.notify.preferences import choices, wants

log = logging.getLogger(__name__)

BATCH = 50  # deliveries per task
MAX_ATTEMPTS = 6  # then the delivery is failed and shown to admins


class Transient(Exception):
    """The channel failed this time (server down, 429): try again later."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Permanent(Exception):
    """The channel will never take it (an address that bounces, a bot the user blocked)."""


@dataclass(frozen=True)
class Sender:
    """A channel beyond the app: whether a user can be reached on it, and how to send."""

    reachable: Callable  # (user) -> bool: configured, and the user has an address / a chat
    send: Callable  # (delivery, user) -> None, or raises Transient / Permanent


SENDERS: dict[Channel, Sender] = {}


def register_sender(channel: Channel, sender: Sender) -> None:
    """A channel's module registers itself when imported (notify/mail.py, telegram/)."""
    SENDERS[channel] = sender


def tell(
    users: Iterable,
    kind: str,
    *,
    params: dict | None = None,
    match=None,
    need=None,
    offer=None,
    organization=None,
    dedupe_key: str | None = None,
    quiet: bool = False,
) -> list[Notification]:
    """Tell each (active, distinct) user this kind of thing, in the current transaction.

    params: only what every one of these recipients may see (notify/kinds.py). dedupe_key:
    tell each user this once only, ever (a reminder); the user's id is added to it. quiet:
    the inbox only, no e-mail or Telegram (a summary of many goes there instead)."""
    return tell_all(
        [Telling(list(users), kind, params, match, need, offer, organization, dedupe_key, quiet)]
    )


@dataclass(frozen=True)
class Telling:
    """One tell of many (tell_all): these users, this kind, as tell's arguments say."""

    users: list
    kind: str
    params: dict | None = None
    match: object = None
    need: object = None
    offer: object = None
    organization: object = None
    dedupe_key: str | None = None
    quiet: bool = False  # the inbox only


CHUNK = 500  # values per IN (...)


def _chunks(values: list) -> Iterable[list]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def tell_all(tellings: Iterable[Telling]) -> list[Notification]:
    """Several tells at once (a job telling about thousands of matches), in a few queries
    whatever their number: the dedupe keys told already, each kind's preferences, one flush."""
    plans = []
    for item in tellings:
        recipients = {u.id: u for u in item.users if u is not None and u.active}
        keys = {uid: f"{item.dedupe_key}:u{uid}" for uid in recipients} if item.dedupe_key else {}
        plans.append((item, recipients, keys))
    wanted = [key for _item, _r, keys in plans for key in keys.values()]
    told: set[str] = set()
    for chunk in _chunks(wanted):
        told.update(
            db.session.scalars(
                select(Notification.dedupe_key).where(Notification.dedupe_key.in_(chunk))
            )
        )
    by_kind: dict[str, set[int]] = {}
    for item, recipients, _keys in plans:
        by_kind.setdefault(item.kind, set()).update(recipients)
    chosen = {
        kind: {k: v for chunk in _chunks(sorted(ids)) for k, v in choices(chunk, kind).items()}
        for kind, ids in by_kind.items()
    }
    made, deliveries = [], []
    for item, recipients, keys in plans:
        spec = KINDS[item.kind]
        body = json.dumps(item.params or {}, sort_keys=True, default=str)
        for uid, user in sorted(recipients.items()):
            key = keys.get(uid)
            if key in told:
                continue
            if key:
                told.add(key)  # also once within this call
            note = Notification(
                user_id=uid,
                kind=item.kind,
                inbox=spec.inbox,
                params_json=body,
                match_id=getattr(item.match, "id", None),
                need_id=getattr(item.need, "id", None),
                offer_id=getattr(item.offer, "id", None),
                organization_id=getattr(item.organization, "id", None),
                dedupe_key=key,
            )
            for channel, sender in () if item.quiet else SENDERS.items():
                if wants(user, item.kind, channel, chosen[item.kind]) and sender.reachable(user):
                    delivery = Delivery(channel=channel)
                    note.deliveries.append(delivery)
                    deliveries.append(delivery)
            db.session.add(note)
            made.append(note)
    if deliveries:
        db.session.flush()
        ids = [d.id for d in deliveries]
        for start in range(0, len(ids), BATCH):
            after_commit("notify.deliver", ids[start : start + BATCH])
    return made


def _claim(ids: list[int], now: datetime) -> list[Delivery]:
    """Take the deliveries that are still waiting and due, so that no other worker sends
    them too; committed at once."""
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.id.in_(ids),
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at <= now,
        )
        .values(status=DeliveryStatus.SENDING, claimed_at=now, attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return list(
        db.session.scalars(
            select(Delivery)
            .where(
                Delivery.id.in_(ids),
                Delivery.status == DeliveryStatus.SENDING,
                Delivery.claimed_at == now,
            )
            .order_by(Delivery.id)
        )
    )


def backoff(attempts: int) -> float:
    """Seconds before the next attempt: 30 s, 1 min, 2 min ... at most an hour."""
    return float(min(30 * 2 ** max(attempts - 1, 0), 3600))


@task("notify.deliver")
def deliver(ids: list[int]) -> dict:
    """Send these deliveries, each on its channel; record each outcome as it happens."""
    outcome = {"sent": 0, "retry": 0, "failed": 0}
    for delivery in _claim(list(ids), utcnow()):
        sender = SENDERS.get(delivery.channel)
        try:
            if sender is None:
                raise Permanent(f"the {delivery.channel} channel is off")
            sender.send(delivery, delivery.notification.user)
        except Transient as exc:
            _record_failure(delivery, str(exc), exc.retry_after)
            outcome["retry" if delivery.status == DeliveryStatus.PENDING else "failed"] += 1
        except Permanent as exc:
            _give_up(delivery, str(exc))
            outcome["failed"] += 1
        except Exception as exc:  # a bug or an unexpected answer: retried like a fault
            log.exception("delivery %s failed", delivery.id)
            _record_failure(delivery, f"{type(exc).__name__}: {exc}", None)
            outcome["retry" if delivery.status == DeliveryStatus.PENDING else "failed"] += 1
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = utcnow()
            delivery.last_error = None
            outcome["sent"] += 1
        db.session.commit()  # each outcome at once: a worker killed now re-sends nothing sent
    return outcome


def _record_failure(delivery: Delivery, error: str, retry_after: float | None) -> None:
    delivery.last_error = error[:500]
    if delivery.attempts >= MAX_ATTEMPTS:
        _give_up(delivery, error)
        return
    delay = retry_after if retry_after is not None else backoff(delivery.attempts)
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
    after_commit_delay(delivery.id, delay)


def after_commit_delay(delivery_id: int, delay: float) -> None:
    """Enqueue one delivery's next attempt to run after delay seconds (best effort: the sweep
    finds it anyway once it is due)."""
    try:
        enqueue("notify.deliver", [delivery_id], delay=delay)
    except Exception:
        log.exception("could not schedule delivery %s", delivery_id)


def _give_up(delivery: Delivery, error: str) -> None:
    delivery.status = DeliveryStatus.FAILED
    delivery.last_error = error[:500]


def stale_after() -> timedelta:
    """How old a claim is when its worker is taken for dead (NOTIFY_CLAIM_STALE_SECONDS)."""
    return timedelta(seconds=current_app.config["NOTIFY_CLAIM_STALE_SECONDS"])


@periodic("notify.sweep", at_start=True, minute="*")
def sweep(now: datetime | None = None) -> int:
    """Hand over what is due and not on its way: deliveries waiting past their time (an
    enqueue lost with Redis or a process), and claims older than NOTIFY_CLAIM_STALE_SECONDS (a worker killed
    while sending). Returns how many deliveries it handed over."""
    now = now or utcnow()
    stale = now - stale_after()
    due = and_(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
    lost = and_(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at <= stale)
    ids = list(db.session.scalars(select(Delivery.id).where(or_(due, lost)).order_by(Delivery.id)))
    if not ids:
        return 0
    db.session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), lost)
        .values(status=DeliveryStatus.PENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    for start in range(0, len(ids), BATCH):
        after_commit("notify.deliver", ids[start : start + BATCH])
    return len(ids)
