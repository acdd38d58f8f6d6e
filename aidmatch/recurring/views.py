"""A recurring offer on its page (a section of the offer page, postings/pages.page_section):
what comes regularly and when the next one is due; for its collective the forms that make it
repeat, change, pause, resume and stop it (POST /offers/<id>/repeat[/change|pause|resume|
stop]); a coordinator's home page counts the periods missed in the last weeks."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches.pages import match_section
from aidmatch.offers.views import PAGES
from aidmatch.permissions import is_staff, require_login
from aidmatch.postings.pages import detail_page, page_section, template_helpers
from aidmatch.recurring import operations as ops
from aidmatch.recurring.forms import ButtonForm, ChangeForm, RepeatForm
from aidmatch.recurring.models import RecurrencePeriod
from aidmatch.refusals import Invalid, Refusal
from aidmatch.web.errors import put_on_form, refusal_status
from aidmatch.web.home import AttentionItem, attention_provider

bp = Blueprint("recurring", __name__)
# The offer page drawn again with a refused form needs the offers pages' helpers.
bp.context_processor(template_helpers)

MISSED_SHOWN_DAYS = 28  # how far back a coordinator's home page counts missed periods


@page_section("offer")
def offer_page_recurrence(offer, viewer, may_edit: bool) -> dict:
    """templates/recurring/_section.html's context: the series and the forms its collective
    may send (a form sent with a problem comes back through g)."""
    rec = ops.recurrence_of(offer)
    context: dict = {"recurrence": None, "repeat_form": None, "change_form": None}
    if rec is not None:
        context["recurrence"] = ops.summary(rec, viewer)
        if may_edit and rec.stopped_at is None:
            form = g.get("recurrence_form") or ChangeForm(formdata=None)
            if not form.is_submitted():
                form.quantity.data = str(rec.quantity)
                form.ends_on.data = rec.ends_on.isoformat() if rec.ends_on else ""
                form.carry_over.data = rec.carry_over
            context["change_form"] = form
            context["button_form"] = ButtonForm(formdata=None)
    elif may_edit and offer.effective_status == "open":
        form = g.get("recurrence_form") or RepeatForm(formdata=None)
        if not form.is_submitted():
            form.quantity.data = str(offer.quantity)
            form.starts_on.data = utcnow().date().isoformat()
        context["repeat_form"] = form
    return context


@match_section
def match_page_recurrence(match, viewer) -> dict:
    """On a match from a recurring offer: what comes regularly and when the next is due."""
    if match.offer is None:
        return {}
    rec = ops.recurrence_of(match.offer)
    if rec is None:
        return {}
    return {"match_recurrence": ops.summary(rec, viewer)}


def _send(offer_id: int, form, act, done: str):
    """Run a verb for the form's offer; on a refusal the offer page again with the problem
    on the form (nothing saved), else back to the page with `done`."""
    offer = PAGES.get(offer_id)
    user = current_user._get_current_object()
    try:
        ops.check_member(user, offer)
        if not form.validate_on_submit():
            raise Invalid(_("The form had expired. Please send it again."))
        act(offer, user)
    except Refusal as err:
        db.session.rollback()
        put_on_form(form, err)
        g.recurrence_form = form if not isinstance(form, ButtonForm) else None
        if isinstance(form, ButtonForm):
            flash(err.message, "error")
        return detail_page(PAGES, offer_id, lambda obj, may_edit: {}), refusal_status(err)
    flash(done, "ok")
    return redirect(url_for("offers.detail", offer_id=offer_id, _anchor="recurrence"))


def _series(offer):
    rec = ops.recurrence_of(offer)
    if rec is None:
        raise Invalid(_("This offer does not repeat."))
    return rec


@bp.post("/offers/<int:offer_id>/repeat")
@require_login
def repeat(offer_id: int):
    """Make the offer repeat."""
    form = RepeatForm()
    return _send(
        offer_id,
        form,
        lambda offer, user: ops.make_recurring(offer, form.data_for_operation(), user),
        _("The offer now repeats."),
    )


@bp.post("/offers/<int:offer_id>/repeat/change")
@require_login
def change(offer_id: int):
    """Change the series from its next period on."""
    form = ChangeForm()
    return _send(
        offer_id,
        form,
        lambda offer, user: ops.change(_series(offer), form.data_for_operation(), user),
        _("Saved: the change counts from the next period on."),
    )


def _button(verb: str, done: str):
    def view(offer_id: int):
        return _send(
            offer_id,
            ButtonForm(),
            lambda offer, user: getattr(ops, verb)(_series(offer), user),
            done(),
        )

    view.__name__ = verb
    view.__doc__ = f"{verb.capitalize()} the series."
    bp.post(f"/offers/<int:offer_id>/repeat/{verb}")(require_login(view))


_button("pause", lambda: _("Paused: no new period opens until you resume."))
_button("resume", lambda: _("Resumed: the current period is open again."))
_button("stop", lambda: _("Stopped: no new period will open."))


@attention_provider
def _missed_periods(user):
    """On a coordinator's home page: the periods of recurring offers missed lately (the
    latest one's offer is linked)."""
    if not is_staff(user):
        return
    since = utcnow() - timedelta(days=MISSED_SHOWN_DAYS)
    missed = select(RecurrencePeriod).where(RecurrencePeriod.missed_at >= since)
    count = db.session.scalar(missed.with_only_columns(func.count(RecurrencePeriod.id)))
    if count:
        latest = db.session.scalar(
            missed.with_only_columns(RecurrencePeriod.offer_id)
            .order_by(RecurrencePeriod.missed_at.desc())
            .limit(1)
        )
        yield AttentionItem(
            ngettext(
                "%(num)d period of a recurring offer was missed lately",
                "%(num)d periods of recurring offers were missed lately",
                count,
            ),
            url_for("offers.detail", offer_id=latest, _anchor="recurrence"),
            "warn",
        )
