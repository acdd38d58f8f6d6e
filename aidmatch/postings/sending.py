"""Sending the form of a need or offer: resolving the place box, posting once per
one-time token, and what static/js/drafts.js needs to keep what was typed.

Used by the pages of needs and offers (for new and edited ones alike).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.places.labels import place_label
from aidmatch.postings.forms import (
    PlaceLookup,
    PostingForm,
    date_error_fields,
    lookup_place,
)
from aidmatch.postings.operations import KeyReused, Posted
from aidmatch.postings.validate import clean_idempotency_key
from aidmatch.refusals import Invalid
from aidmatch.web.drafts import draft_sent

# How long static/js/drafts.js keeps what was typed into a form that was not sent.
DRAFT_DAYS = 7


def posted_drafts(model, endpoint: str, id_arg: str) -> dict[str, list[str]]:
    """{one-time token: [url, title]} of what this user posted from a form lately.

    A new need's or offer's page lists them for static/js/drafts.js: a draft saved under one of
    these tokens was posted (its answer perhaps lost on a bad connection), so the script drops
    it and says where the posting is, instead of filling the form in again.
    """
    rows = db.session.execute(
        select(model.id, model.title, model.idempotency_key)
        .where(
            model.organization_id == current_user.organization_id,
            model.created_by_id == current_user.id,
            model.idempotency_key.is_not(None),
            model.created_at >= utcnow() - timedelta(days=DRAFT_DAYS),
        )
        .order_by(model.id.desc())
        .limit(20)
    ).all()
    return {key: [url_for(endpoint, **{id_arg: row_id}), title] for row_id, title, key in rows}


def save(form: PostingForm, operation: Callable[[dict], object]):
    """Resolve the place box and run the operation (the request's edge commits); on any problem (a
    date that is not one, a place to choose, an operation's refusal) roll back and put the
    messages on the form. Returns (place lookup, saved object or None)."""
    form_ok = form.validate()
    date_error_fields(form, tuple(n for n in ("needed_by", "available_until") if n in form))
    # A "which one?" radio and a script-filled hidden input share the name: take the one set.
    chosen = [v for v in request.form.getlist(form.place_id.name) if v]
    lookup = lookup_place(form.place_name.data, chosen[0] if chosen else None)
    data = form.data_for_operation()
    data["place_id"] = lookup.place.id if lookup.place else None
    if lookup.error:  # the operation then reports the missing place, and every other field
        data["lat"] = data["lon"] = None
    fields, message, saved = {}, "", None
    try:
        saved = operation(data)
    except Invalid as err:
        fields, message = dict(err.fields), err.message
    if lookup.place is not None:
        form.place_id.data = str(lookup.place.id)
        form.place_name.data = place_label(lookup.place)
    else:
        form.place_id.data = ""
    if lookup.error:
        fields["place_id"] = lookup.error
    if saved is None or not form_ok or fields:
        db.session.rollback()
        form.add_errors(fields)
        if "csrf_token" in form.errors:
            message = _("The form had expired. Please send it again.")
        message = message or _("Please correct the marked fields.")
        if message not in form.form_errors:  # a hidden field's message is there already
            form.form_errors.append(message)
        return lookup, None
    return lookup, saved


def give_token(form: PostingForm) -> None:
    """Draw a new need's or offer's form with its one-time token: the one it was sent with (so
    sending it again after fixing an error still posts once), or a new one."""
    try:
        key = clean_idempotency_key(form.idempotency_key.data or None)
    except Invalid:
        key = None
    form.idempotency_key.data = key or secrets.token_urlsafe(24)


def send_new(
    form: PostingForm, post: Callable[[dict, str | None], Posted], endpoint, id_arg, words
):
    """The POST of a new need's or offer's form: post(data, key) once per one-time token.

    Returns (redirect or None, place lookup). The redirect leads to what was posted: now, by an
    earlier sending of the same form (the same token), or, when the form was changed since, by
    that earlier sending; words["posted"], ["again"] or ["changed"] say which. None: the form
    is to be shown again with its errors (and the same token).
    """
    key = form.idempotency_key.data or None
    new_form = f"{id_arg.removesuffix('_id')}:new"  # "need:new": the form's data-draft id
    try:
        lookup, posted = save(form, lambda data: post(data, key))
    except KeyReused as err:
        db.session.rollback()
        draft_sent(new_form)
        flash(words["changed"], "warn")
        return redirect(url_for(endpoint, **{id_arg: err.existing_id})), PlaceLookup()
    if posted is None:
        return None, lookup
    draft_sent(new_form)
    flash(words["posted"] if posted.created else words["again"], "ok")
    return redirect(url_for(endpoint, **{id_arg: posted.obj.id})), lookup
