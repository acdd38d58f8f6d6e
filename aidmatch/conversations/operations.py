"""The verbs and reads of conversations: who may read and write a thread, writing a message,
reporting one to the coordinators. Verbs flush, write the audit entry and tell the others in
the transaction of the change; they never commit. Reads never write: a thread row is made by
its first message.

Who stands where: on a match, the two sides of matches/lifecycle.py's SIDES (the donor
organization's members, the group's members) and the coordinators ("party_or_staff"); on an
offer, the offer's organization and one group (a member of a verified group may start it for
an open offer she may request, as matches/rules.can_request says) and the coordinators. Who
may read a message body is the privacy policy's answer (Viewer.sees_conversation).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from aidmatch.audit.operations import record
from aidmatch.conversations.models import BODY_MAX, Message, Thread
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches.lifecycle import SIDES
from aidmatch.matches.rules import can_request
from aidmatch.notify.audience import audience
from aidmatch.notify.outbox import tell_all
from aidmatch.notify.recipients import each_told, members_of, posting_params, staff
from aidmatch.offers.models import OfferStatus
from aidmatch.orgs.models import Organization
from aidmatch.permissions import is_staff
from aidmatch.privacy import viewer_for
from aidmatch.refusals import Conflict, Invalid, NotAllowed, NotFound
from aidmatch.web.text import text_problem

REASON_MAX = 500
EMPTY = _l("Write a message first: an empty message is not sent.")
NOT_YOURS = _l("Only the two sides of this conversation and the coordinators may write here.")


# --- threads -------------------------------------------------------------------------------


def _found_or_made(query, make) -> Thread:
    """The thread the query finds, or a new one: made in a savepoint, so that a first
    message written at the same moment by the other side (the unique constraint refuses the
    second thread) finds the one the other made instead of failing."""
    thread = db.session.scalar(query)
    if thread is not None:
        return thread
    try:
        with db.session.begin_nested():
            thread = make()
            db.session.add(thread)
    except IntegrityError:
        thread = db.session.scalar(query)
        if thread is None:
            raise
    return thread


def match_thread(match, create: bool = False) -> Thread | None:
    """The match's thread (made when create: by its first message)."""
    query = select(Thread).where(Thread.match_id == match.id)
    if create:
        return _found_or_made(query, lambda: Thread(match_id=match.id))
    return db.session.scalar(query)


def offer_thread(offer, group_id: int | None, create: bool = False) -> Thread | None:
    """The thread between the offer's organization and this group (made when create)."""
    if group_id is None:
        return None
    query = select(Thread).where(Thread.offer_id == offer.id, Thread.group_id == group_id)
    if create:
        return _found_or_made(query, lambda: Thread(offer_id=offer.id, group_id=group_id))
    return db.session.scalar(query)


def offer_threads(offer, viewer) -> list[tuple[Thread, int]]:
    """The offer's threads this user may read, each with its number of messages (one query):
    all of them for staff and the offer's own organization; a group's member only her
    group's."""
    count = select(func.count(Message.id)).where(Message.thread_id == Thread.id)
    query = (
        select(Thread, count.scalar_subquery())
        .where(Thread.offer_id == offer.id)
        .options(joinedload(Thread.group))
    )
    if not is_staff(viewer) and viewer.organization_id != offer.organization_id:
        query = query.where(Thread.group_id == viewer.organization_id)
    return [(thread, n) for thread, n in db.session.execute(query.order_by(Thread.id))]


def parties(thread: Thread) -> tuple[int, int]:
    """The two organizations of a thread: (the group, the donor)."""
    if thread.match is not None:
        return thread.match.need.organization_id, thread.match.organization_id
    return thread.group_id, thread.offer.organization_id


def party_org_ids(match=None, offer=None, group_id: int | None = None) -> tuple:
    """The two organizations of a conversation that may not exist yet."""
    if match is not None:
        return match.need.organization_id, match.organization_id
    return group_id, offer.organization_id


def may_read(user, thread: Thread) -> bool:
    """The privacy policy's answer: staff and the two organizations' members."""
    return viewer_for(user).sees_conversation(parties(thread))


def check_read(user, thread: Thread | None) -> Thread:
    """The thread if this user may read it; NotFound otherwise (nothing is told of it)."""
    if thread is None or not may_read(user, thread):
        raise NotFound(_("Not found"))
    return thread


def may_write_match(user, match) -> bool:
    """The two sides and the coordinators (the lifecycle table's "party_or_staff")."""
    return SIDES["party_or_staff"](user, match)


def may_start_offer(user, offer) -> bool:
    """A member of a verified group who could request this open offer (coordinators answer
    in a conversation; they start none)."""
    if is_staff(user):
        return False
    org = user.organization
    return (
        can_request(user)
        and org is not None
        and org.verified
        and offer.organization_id != org.id
        and offer.effective_status == OfferStatus.OPEN
    )


def check_write_offer(user, offer, thread: Thread | None) -> None:
    """May this user write on the offer's thread (an existing one: a party or staff; a new
    one: may_start_offer)? NotAllowed otherwise."""
    if thread is not None and may_read(user, thread):
        return
    if thread is None and may_start_offer(user, offer):
        return
    raise NotAllowed(NOT_YOURS)


def messages_of(thread: Thread | None) -> list[Message]:
    """The thread's messages, oldest first, with their authors' organizations."""
    if thread is None:
        return []
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.thread_id == thread.id)
            .options(joinedload(Message.organization), joinedload(Message.author))
            .order_by(Message.id)
        )
    )


# --- writing -------------------------------------------------------------------------------


def clean_body(value) -> str:
    """The message as it will be stored: stripped, not empty, at most BODY_MAX characters;
    Invalid naming the field "body" otherwise."""
    if not isinstance(value, str):
        raise Invalid(_("Must be text."), field="body")
    problem = text_problem(value)
    if problem:
        raise Invalid(problem, field="body")
    value = value.strip()
    if not value:
        raise Invalid(EMPTY, field="body")
    if len(value) > BODY_MAX:
        raise Invalid(
            _(
                "A message may be at most %(max)d characters long; this one has %(n)d.",
                max=BODY_MAX,
                n=len(value),
            ),
            field="body",
        )
    return value


def write(thread: Thread, author, body) -> Message:
    """Add a message by this author (checked by the caller: a party or staff), audit it and
    tell the others. Invalid for an empty or too long body."""
    text = clean_body(body)
    own = author.organization_id if author.organization_id in parties(thread) else None
    message = Message(thread=thread, author_id=author.id, organization_id=own, body=text)
    db.session.add(message)
    db.session.flush()
    record(
        author,
        "message.write",
        message,
        after={
            "thread_id": thread.id,
            "match_id": thread.match_id,
            "offer_id": thread.offer_id,
            "group_id": thread.group_id,
            "organization_id": own,
            "body": text,
        },
    )
    tell_about(message, author)
    return message


def write_on_match(match, author, body) -> Message:
    """A message on a match's thread, by one of its sides or a coordinator."""
    if not may_write_match(author, match):
        raise NotAllowed(NOT_YOURS)
    clean_body(body)  # refused before a thread row is made
    return write(match_thread(match, create=True), author, body)


def write_on_offer(offer, author, body, group_id: int | None = None) -> Message:
    """A message on the thread of this offer with a group: the group's own (an organizer), or
    the one named by group_id (the offer's organization answering, a coordinator)."""
    if group_id is None and author.organization_id != offer.organization_id:
        group_id = author.organization_id
    if group_id is None or group_id == offer.organization_id:
        raise NotAllowed(NOT_YOURS)
    thread = offer_thread(offer, group_id)
    if thread is None and author.organization_id != group_id:
        raise NotAllowed(NOT_YOURS)  # only the group starts it, never with another group
    check_write_offer(author, offer, thread)
    clean_body(body)
    if thread is None:
        thread = offer_thread(offer, group_id, create=True)
    return write(thread, author, body)


def reply_in_thread(user, thread_id, body) -> Message:
    """An answer to a notification of a message (a reply in Telegram): written into that
    thread with the checks of the pages (the user may have left the organization since)."""
    thread = db.session.get(Thread, thread_id) if isinstance(thread_id, int) else None
    check_read(user, thread)
    if thread.match is not None:
        return write_on_match(thread.match, user, body)
    return write_on_offer(thread.offer, user, body, thread.group_id)


def report(message: Message, user, reason: str = "") -> Message:
    """A party (not its author) reports a message to the coordinators: they are told and see
    it among the reported messages. Conflict when it was reported already."""
    if not may_read(user, message.thread) or is_staff(user):
        raise NotAllowed(_("Only the other side of this conversation may report a message."))
    if message.author_id == user.id:
        raise NotAllowed(_("You cannot report your own message."))
    if message.reported_at is not None:
        raise Conflict(_("This message was already reported to the coordinators."))
    reason = (reason or "").strip()
    problem = text_problem(reason)
    if problem or len(reason) > REASON_MAX:
        raise Invalid(
            problem or _("At most %(max)d characters, please.", max=REASON_MAX), field="reason"
        )
    message.reported_at = utcnow()
    message.reported_by_id = user.id
    message.report_reason = reason or None
    db.session.flush()
    record(user, "message.report", message, after={"reason": reason})
    told = each_told(
        staff(),
        "message_reported",
        lambda recipient: {"thread_id": message.thread_id},
        not_to=user,
        match=message.thread.match,
        offer=message.thread.offer,
    )
    tell_all(told)
    return message


def reported_messages(limit: int = 200) -> list[Message]:
    """The reported messages, newest report first (the coordinators' page)."""
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.reported_at.is_not(None))
            .options(
                joinedload(Message.organization),
                joinedload(Message.thread).joinedload(Thread.group),
            )
            .order_by(Message.reported_at.desc(), Message.id.desc())
            .limit(limit)
        )
    )


# --- telling -------------------------------------------------------------------------------


def recipients(message: Message, author) -> list:
    """Who hears of a new message: the members of the other side (both sides when a
    coordinator wrote), and the coordinators who wrote in the thread before; never the
    author."""
    thread = message.thread
    orgs = [org for org in parties(thread) if org != author.organization_id]
    users = [user for members in members_of(orgs).values() for user in members]
    writers = set(
        db.session.scalars(
            select(Message.author_id).where(
                Message.thread_id == thread.id, Message.organization_id.is_(None)
            )
        )
    )
    users += [user for user in staff() if user.id in writers]
    return [user for user in users if user.id != author.id]


def tell_about(message: Message, author) -> None:
    """Tell the others of a new message: what it is about (as each may know it), who wrote it
    (an organization's name, or "a coordinator") and the body, which a party typed for them."""
    thread = message.thread
    posting = thread.match.need if thread.match is not None else thread.offer
    # The organization's name; none for a coordinator (each reads "A coordinator" in their
    # own language: notify/messages.render).
    writer = author_name(message) if message.organization_id is not None else None
    kind = "message_on_match" if thread.match is not None else "message_on_offer"

    def params_for(user) -> dict:
        return posting_params(
            posting, user, thread_id=thread.id, organization=writer, body=message.body
        )

    tell_all(
        each_told(
            recipients(message, author),
            kind,
            params_for,
            not_to=author,
            match=thread.match,
            offer=thread.offer,
        )
    )


def author_name(message: Message) -> str:
    """Who wrote it, as the other side reads it: the organization, or "A coordinator"."""
    if message.organization_id is None:
        return _("A coordinator")
    org = message.organization or db.session.get(Organization, message.organization_id)
    return org.name


def message_to_dict(message: Message, viewer) -> dict:
    """A message as the API and pages show it to a reader of its thread."""
    return {
        "id": message.id,
        "body": message.body,
        "organization": (
            {"id": message.organization.id, "name": message.organization.name}
            if message.organization is not None
            else None
        ),
        "by_coordinator": message.organization_id is None,
        "mine": message.author_id == viewer.id,
        "created_at": message.created_at,
        "reported": message.reported_at is not None,
    }


@audience
def _still_in_the_offers_conversation(note, user) -> bool | None:
    """A message in an offer's conversation (message_on_offer) leaves only for the members of
    its two organizations and staff: a member removed since it was told gets nothing."""
    if note.offer_id is None or note.match_id is not None:
        return None
    thread_id = note.params.get("thread_id")
    thread = db.session.get(Thread, thread_id) if isinstance(thread_id, int) else None
    if thread is None:
        return None
    return is_staff(user) or user.organization_id in parties(thread)
