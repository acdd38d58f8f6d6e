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
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, select, update

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import after_commit, periodic, task
from aidmatch.notify.audience import refusal
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.models import Channel, Delivery, DeliveryStatus, Notification
from aidmatch.notify.preferences import choices, wants

log = logging.getLogger(__name__)

BATCH = 50  # deliveries per task
MAX_ATTEMPTS = 6  # then the delivery is failed and shown to admins


class Transient(Exception):
    """The channel failed this time: try again later. retry_after: the channel said when
    (Telegram's flood control; not counted as an attempt). whole_channel: the channel itself
    failed (server down, flood control), not this one message: the rest of the batch on that
    channel waits as long, without being tried."""

    def __init__(self, message: str, retry_after: float | None = None, whole_channel: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.whole_channel = whole_channel or retry_after is not None


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


def _claim(ids: list[int], token: str, now: datetime) -> list[tuple[int, Channel]]:
    """Take the deliveries that are still waiting and due, marked with this worker's token,
    so that no other worker sends them too; committed at once."""
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.id.in_(ids),
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at <= now,
        )
        .values(
            status=DeliveryStatus.SENDING,
            claimed_at=now,
            claim_token=token,
            attempts=Delivery.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    taken = db.session.execute(
        select(Delivery.id, Delivery.channel)
        .where(Delivery.claim_token == token, Delivery.status == DeliveryStatus.SENDING)
        .order_by(Delivery.id)
    ).all()
    db.session.commit()
    return [(delivery_id, Channel(channel)) for delivery_id, channel in taken]


def _mine(delivery_id: int, token: str):
    """SQL: this delivery, still claimed by this worker."""
    return and_(
        Delivery.id == delivery_id,
        Delivery.claim_token == token,
        Delivery.status == DeliveryStatus.SENDING,
    )


def _update_mine(delivery_id: int, token: str, **values) -> bool:
    """Change the delivery if this worker still holds its claim (a claim gone stale was taken
    by the sweep, and may be another worker's now): whether it did."""
    result = db.session.execute(
        update(Delivery)
        .where(_mine(delivery_id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def backoff(attempts: int) -> float:
    """Seconds before the next attempt: 30 s, 1 min, 2 min ... at most an hour."""
    return float(min(30 * 2 ** max(attempts - 1, 0), 3600))


@task("notify.deliver")
def deliver(ids: list[int]) -> dict:
    """Send these deliveries, each on its channel. The job commits its claim, each renewal of
    it just before a send, and each outcome as it happens (a worker killed now re-sends
    nothing it recorded); the sweep never hands a delivery being sent to another worker, and
    an outcome is written only while the claim is this worker's."""
    outcome = {"sent": 0, "retry": 0, "failed": 0, "lost": 0}
    token = uuid.uuid4().hex
    put_off: dict[Channel, tuple[float, str]] = {}  # the channel failed: the rest waits
    for delivery_id, channel in _claim(list(ids), token, utcnow()):
        outcome[_deliver_one(delivery_id, channel, token, put_off)] += 1
        db.session.commit()
    return outcome


def _deliver_one(delivery_id: int, channel: Channel, token: str, put_off: dict) -> str:
    """Send one claimed delivery and record what came of it (sent, retry, failed, or lost:
    the claim went stale and is another worker's now)."""
    if channel in put_off:
        delay, error = put_off[channel]
        return "retry" if _retry(delivery_id, token, error, delay, attempted=False) else "lost"
    if not _update_mine(delivery_id, token, claimed_at=utcnow()):
        return "lost"
    db.session.commit()  # the renewed claim, seen by the sweep while the message goes out
    delivery = db.session.get(Delivery, delivery_id)
    # Disabled, removed from the organization it is about, no longer staff since it was told:
    # nothing more leaves for it (notify/audience.py), and it is not tried again.
    refused = refusal(delivery.notification, delivery.notification.user)
    if refused is not None:
        return _failed(delivery_id, token, refused)
    sender = SENDERS.get(channel)
    try:
        if sender is None:
            raise Permanent(f"the {channel} channel is off")
        sender.send(delivery, delivery.notification.user)
    except Transient as exc:
        attempted = exc.retry_after is None  # flood control: not this message's fault
        delay = backoff(delivery.attempts) if attempted else exc.retry_after
        if exc.whole_channel:
            put_off[channel] = (delay, str(exc))
        return _again_or_failed(delivery, token, str(exc), delay, attempted)
    except Permanent as exc:
        return _failed(delivery_id, token, str(exc))
    except Exception as exc:  # a bug or an unexpected answer: retried like a fault
        log.exception("delivery %s failed", delivery_id)
        error = f"{type(exc).__name__}: {exc}"
        return _again_or_failed(delivery, token, error, backoff(delivery.attempts), True)
    kept = _update_mine(
        delivery_id, token, status=DeliveryStatus.SENT, sent_at=utcnow(), last_error=None
    )
    return "sent" if kept else "lost"


def _failed(delivery_id: int, token: str, error: str) -> str:
    kept = _update_mine(delivery_id, token, status=DeliveryStatus.FAILED, last_error=error[:500])
    return "failed" if kept else "lost"


def _again_or_failed(delivery, token: str, error: str, delay: float, attempted: bool) -> str:
    """Try again after delay, or give up once an attempt was the last one."""
    if attempted and delivery.attempts >= MAX_ATTEMPTS:
        return _failed(delivery.id, token, error)
    return "retry" if _retry(delivery.id, token, error, delay, attempted) else "lost"


def _retry(delivery_id: int, token: str, error: str, delay: float, attempted: bool) -> bool:
    """Put the delivery back to wait delay seconds (not counted as an attempt when it was
    not tried, or the channel said when), and enqueue it then, once committed."""
    values = {
        "status": DeliveryStatus.PENDING,
        "next_attempt_at": utcnow() + timedelta(seconds=delay),
        "last_error": error[:500],
        "claim_token": None,
    }
    if not attempted:
        values["attempts"] = Delivery.attempts - 1
    kept = _update_mine(delivery_id, token, **values)
    if kept:
        after_commit("notify.deliver", [delivery_id], delay=delay)
    return kept


def stale_after() -> timedelta:
    """How old a claim is when its worker is taken for dead (NOTIFY_CLAIM_STALE_SECONDS)."""
    return timedelta(seconds=current_app.config["NOTIFY_CLAIM_STALE_SECONDS"])


SWEEP_LIMIT = 5000  # deliveries handed over per sweep (a minute later, the next ones)


@periodic("notify.sweep", at_start=True, minute="*")
def sweep(now: datetime | None = None) -> int:
    """Hand over what is due and not on its way: deliveries waiting a while past their time
    (an enqueue lost with Redis or a process; fresh ones are on their way), and claims older
    than NOTIFY_CLAIM_STALE_SECONDS (a worker killed while sending; one that has had all its
    attempts is failed instead, so a message that kills its worker is not tried forever).
    Returns how many deliveries it handed over."""
    now = now or utcnow()
    stale = now - stale_after()
    grace = min(timedelta(minutes=1), stale_after())
    lost = and_(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at <= stale)
    db.session.execute(
        update(Delivery)
        .where(lost, Delivery.attempts >= MAX_ATTEMPTS)
        .values(status=DeliveryStatus.FAILED, claim_token=None, last_error="lost with its worker")
        .execution_options(synchronize_session=False)
    )
    lost_ids = list(
        db.session.scalars(select(Delivery.id).where(lost).order_by(Delivery.id).limit(SWEEP_LIMIT))
    )
    for chunk in _chunks(lost_ids):
        db.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(chunk), lost)
            .values(status=DeliveryStatus.PENDING, next_attempt_at=now, claim_token=None)
            .execution_options(synchronize_session=False)
        )
    due = and_(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now - grace)
    due_ids = db.session.scalars(
        select(Delivery.id).where(due).order_by(Delivery.id).limit(SWEEP_LIMIT)
    )
    ids = sorted({*lost_ids, *due_ids})
    for start in range(0, len(ids), BATCH):
        after_commit("notify.deliver", ids[start : start + BATCH])
    return len(ids)
