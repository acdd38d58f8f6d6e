"""The pages of conversations: the thread on a match's page (a section of it), the thread of
an offer with one group (its own page, linked from the offer's page), reporting a message,
and the coordinators' list of reported messages.

Thin: who may read is asked first (a stranger gets 404, as for the match or offer itself),
then the verb writes; a refusal goes back onto the form with what was typed (nothing lost). A
GET writes nothing: a thread row is made by its first message.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from aidmatch.conversations import operations as ops
from aidmatch.conversations.forms import MessageForm, ReportForm
from aidmatch.conversations.models import BODY_MAX, Message
from aidmatch.db import is_id, utcnow
from aidmatch.extensions import db, limiter
from aidmatch.matches.pages import match_section
from aidmatch.matches.views import get_match, render_match
from aidmatch.offers.operations import get_visible_offer
from aidmatch.permissions import is_staff, require_login, require_staff
from aidmatch.postings.pages import page_section
from aidmatch.privacy import viewer_for
from aidmatch.refusals import NotFound, Refusal
from aidmatch.web.errors import put_on_form, refusal_status
from aidmatch.web.home import AttentionItem, attention_provider

bp = Blueprint("conversations", __name__)


def message_limit() -> str:
    """How many messages one user may send (MESSAGE_RATE_LIMIT), pages and API together."""
    return current_app.config["MESSAGE_RATE_LIMIT"]


def user_key() -> str:
    """Rate-limit bucket of the signed-in user (of the address for anyone else)."""
    from flask_limiter.util import get_remote_address

    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return "address:" + (get_remote_address() or "unknown")


def too_many() -> str:
    return _("You have sent many messages in a short time. Please wait a little and try again.")


MESSAGE_SCOPE = "conversation-messages"

# One budget for every way of writing (pages, API, Telegram replies: take_from_budget); a
# refused message is not counted.
posting_limit = limiter.shared_limit(
    message_limit,
    scope=MESSAGE_SCOPE,
    key_func=user_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code < 400,
    error_message=too_many,
)


def take_from_budget(user) -> bool:
    """A message written outside the pages and the API (a reply in Telegram) spends the same
    budget (MESSAGE_RATE_LIMIT, the bucket of posting_limit): whether one more is allowed
    now; if so, it is counted."""
    if not limiter.enabled:
        return True
    from limits import parse_many

    items = parse_many(message_limit())
    key = (f"user:{user.id}", MESSAGE_SCOPE)
    if not all(limiter.limiter.test(item, *key) for item in items):
        return False
    for item in items:
        limiter.limiter.hit(item, *key)
    return True


def shown(messages: list[Message], viewer) -> list[dict]:
    """The messages as the page lists them, each with a report form where the viewer may
    report it (a party, not its author, not yet reported)."""
    rows = []
    for message in messages:
        row = ops.message_to_dict(message, viewer)
        row["author"] = ops.author_name(message)
        row["may_report"] = not is_staff(viewer) and not row["mine"] and message.reported_at is None
        row["report_reason"] = message.report_reason if is_staff(viewer) else None
        rows.append(row)
    return rows


# --- a match's conversation ------------------------------------------------------------------


@match_section
def _match_conversation(match, viewer) -> dict:
    if not viewer_for(viewer).sees_conversation(ops.party_org_ids(match=match)):
        return {}  # a hub on the shipment's route sees the match, not its conversation
    thread = ops.match_thread(match)
    return {
        "conversation": {
            "messages": shown(ops.messages_of(thread), viewer),
            "may_write": ops.may_write_match(viewer, match),
            "max": BODY_MAX,
        },
        "message_form": MessageForm(formdata=None),
        "report_form": ReportForm(formdata=None),
    }


@bp.post("/matches/<int:match_id>/messages")
@require_login
@posting_limit
def write_on_match(match_id: int):
    """Write on a match's conversation, then back to its page (the form keeps the text on a
    refusal)."""
    match = get_match(match_id)
    user = current_user._get_current_object()
    form = MessageForm()
    if not form.validate_on_submit():
        form.form_errors.append(_("The form had expired. Please send it again."))
        return render_match(match, status=400, message_form=form)
    try:
        ops.write_on_match(match, user, form.body.data)
    except Refusal as err:
        db.session.rollback()
        put_on_form(form, err)
        return render_match(match, status=refusal_status(err), message_form=form)
    flash(_("Your message is sent."), "ok")
    return redirect(url_for("matches.detail", match_id=match.id, _anchor="conversation"))


# --- an offer's conversations ----------------------------------------------------------------


@page_section("offer")
def _offer_conversations(offer, viewer, may_edit: bool) -> dict:
    """On an offer's page: its conversations for the offer's organization and staff; for a
    group, its own (or a link to start one when it may)."""
    threads = ops.offer_threads(offer, viewer)
    own = None
    if not is_staff(viewer) and viewer.organization_id != offer.organization_id:
        own = threads[0][0] if threads else None
        threads = []
    return {
        "offer_conversations": {
            "threads": [{"group": thread.group, "count": n} for thread, n in threads],
            "own": own,
            "may_start": own is None and ops.may_start_offer(viewer, offer),
        }
    }


def _group_argument(offer, user) -> int | None:
    """The group of the offer's conversation a page is about: one's own for a group's
    member, ?group= (or the form's) for the offer's organization and staff."""
    if not is_staff(user) and user.organization_id != offer.organization_id:
        return user.organization_id
    raw = request.values.get("group", "")
    return int(raw) if raw.isdigit() and is_id(int(raw)) else None


def render_offer_thread(offer, group_id, form: MessageForm | None = None, status: int = 200):
    """The page of an offer's conversation with one group."""
    user = current_user._get_current_object()
    thread = ops.offer_thread(offer, group_id)
    if thread is not None:
        ops.check_read(user, thread)
    elif not ops.may_start_offer(user, offer):
        raise NotFound(_("Not found"))
    if form is None:
        form = MessageForm(formdata=None)
        form.group.data = str(group_id)
    context = {
        "offer": offer,
        "thread": thread,
        "group": thread.group if thread is not None else user.organization,
        "messages": shown(ops.messages_of(thread), user),
        "message_form": form,
        "report_form": ReportForm(formdata=None),
        "max": BODY_MAX,
    }
    return render_template("conversations/offer.html", **context), status


@bp.get("/offers/<int:offer_id>/messages")
@require_login
def offer_conversation(offer_id: int):
    """An offer's conversation with one group: its messages and a form to write."""
    offer = get_visible_offer(current_user, offer_id)
    return render_offer_thread(offer, _group_argument(offer, current_user))


@bp.post("/offers/<int:offer_id>/messages")
@require_login
@posting_limit
def write_on_offer(offer_id: int):
    """Write on an offer's conversation (a group's member starts it; the offer's organization
    and coordinators answer), then back to it; the form keeps the text on a refusal."""
    offer = get_visible_offer(current_user, offer_id)
    user = current_user._get_current_object()
    group_id = _group_argument(offer, user)
    form = MessageForm()
    if not form.validate_on_submit():
        form.form_errors.append(_("The form had expired. Please send it again."))
        return render_offer_thread(offer, group_id, form, 400)
    try:
        ops.write_on_offer(offer, user, form.body.data, group_id)
    except Refusal as err:
        db.session.rollback()
        put_on_form(form, err)
        return render_offer_thread(offer, group_id, form, refusal_status(err))
    flash(_("Your message is sent."), "ok")
    return redirect(_offer_thread_url(offer.id, group_id, user))


def _offer_thread_url(offer_id: int, group_id: int | None, user) -> str:
    values = {"offer_id": offer_id}
    if is_staff(user) or user.organization_id != group_id:
        values["group"] = group_id
    return url_for("conversations.offer_conversation", **values)


# --- reporting -------------------------------------------------------------------------------


def thread_url(message: Message, user) -> str:
    """Where a message is read: its match's page, or its offer's conversation."""
    thread = message.thread
    if thread.match_id is not None:
        return url_for("matches.detail", match_id=thread.match_id, _anchor=f"msg{message.id}")
    return _offer_thread_url(thread.offer_id, thread.group_id, user) + f"#msg{message.id}"


@bp.post("/messages/<int:message_id>/report")
@require_login
def report(message_id: int):
    """Report a message to the coordinators (a party of its conversation, not its author)."""
    user = current_user._get_current_object()
    message = db.session.get(Message, message_id) if is_id(message_id) else None
    if message is None or not ops.may_read(user, message.thread):
        raise NotFound(_("Not found"))
    form = ReportForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
        return redirect(thread_url(message, user))
    try:
        ops.report(message, user, form.reason.data or "")
    except Refusal as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(thread_url(message, user))
    flash(_("Thank you: the coordinators are told and will read it."), "ok")
    return redirect(thread_url(message, user))


@bp.get("/conversations/reported")
@require_staff
def reported():
    """The coordinators' list of reported messages, newest report first."""
    user = current_user._get_current_object()
    rows = [
        {**ops.message_to_dict(m, user), "author": ops.author_name(m),
         "reason": m.report_reason, "reported_at": m.reported_at, "url": thread_url(m, user)}
        for m in ops.reported_messages()
    ]  # fmt: skip
    return render_template("conversations/reported.html", rows=rows)


RECENT_REPORTS = timedelta(days=7)


@attention_provider
def _recent_reports(user):
    """On a coordinator's home page: the messages reported in the last week."""
    if not is_staff(user):
        return
    since = utcnow() - RECENT_REPORTS
    count = db.session.scalar(select(func.count(Message.id)).where(Message.reported_at >= since))
    if count:
        yield AttentionItem(
            ngettext(
                "%(num)d message was reported in the last 7 days",
                "%(num)d messages were reported in the last 7 days",
                count,
            ),
            url_for("conversations.reported"),
            "warn",
        )
