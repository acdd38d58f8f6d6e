"""The HTML pages of needs and offers, written once: list, one, new, edit and end (cancel
or withdraw), registered on a kind's blueprint by page_routes(). needs/views.py and
offers/views.py keep what differs: their forms, sorts and detail pages' own parts (Pages).

Pages render from the serializers (the privacy-filtered view of a row), never from the
model's exact point or note. Each POST commits once, at its end; a GET writes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aidmatch.categories.menu import category_menu
from aidmatch.extensions import db
from aidmatch.permissions import deny_unless, require_login
from aidmatch.places.labels import place_label
from aidmatch.places.models import Place
from aidmatch.postings.forms import PlaceLookup, ReasonForm
from aidmatch.postings.history import history_of
from aidmatch.postings.kind import Kind
from aidmatch.postings.operations import edit, end, may_change, post
from aidmatch.postings.queries import find_visible, list_page
from aidmatch.postings.sending import give_token, posted_drafts, save, send_new
from aidmatch.postings.serialize import page_to_dicts
from aidmatch.refusals import Refusal
from aidmatch.web.drafts import draft_sent
from aidmatch.web.kept import kept_page
from aidmatch.web.labels import (
    MATCH_STATUS_LABELS,
    NEED_STATUS_LABELS,
    OFFER_STATUS_LABELS,
    URGENCY_LABELS,
    label_of,
    language,
    unit_label,
    urgency_label,
)


@dataclass(frozen=True)
class Pages:
    """What the pages of one kind differ in, beyond its Kind."""

    kind: Kind
    form: type  # NeedForm, OfferForm
    list_form: type  # NeedListForm, ListForm
    sorts: list
    initial: Callable  # the edit form's starting values: initial(data, place)
    list_extra: Callable = lambda form: {}  # the kind's own filters from the list form

    def detail_url(self, obj_id: int) -> str:
        """The page of one need or offer."""
        return url_for(f"{self.kind.plural}.detail", **{self.kind.id_arg: obj_id})

    def render(self, name: str, **context):
        """A kind's template, told its kind and (as `obj`) the need or offer it shows."""
        obj = context.get(self.kind.name)
        return render_template(
            f"{self.kind.plural}/{name}.html", kind=self.kind.name, obj=obj, **context
        )

    def get(self, obj_id: int):
        """The need or offer if the user may see it (a 404 refusal otherwise)."""
        return find_visible(self.kind, current_user, obj_id)

    def may_post(self) -> bool:
        """May the user's organization post this kind?"""
        user = current_user
        return self.kind.may_post(user.organization if user.is_authenticated else None)


# What the domains above postings add to a need's or an offer's page (its matches, the
# candidates that could cover it): a kind's name -> functions (obj, viewer, may_edit) -> dict.
_sections: dict[str, list[Callable[[object, object, bool], dict]]] = {}


def page_section(kind_name: str):
    """Register a function (obj, viewer, may_edit) -> template context that a kind's detail
    page adds (called in registration order)."""

    def register(func):
        _sections.setdefault(kind_name, []).append(func)
        return func

    return register


def page_sections(kind_name: str, obj, viewer, may_edit: bool) -> dict:
    """What every registered section adds to this need's or offer's page."""
    context: dict = {}
    for section in _sections.get(kind_name, ()):
        context.update(section(obj, viewer, may_edit))
    return context


def _nothing(obj, may_edit: bool) -> dict:
    return {}


def page_routes(bp, pages: Pages, own: Callable[[object, bool], dict] = _nothing) -> None:
    """Register a kind's pages on its blueprint: the list, one, new, edit and end (cancel or
    withdraw); own(obj, may_edit) adds what the kind's detail page shows of its own, after
    the registered page sections."""
    kind, one = pages.kind, f"/<int:{pages.kind.id_arg}>"
    both = ["GET", "POST"]
    bp.context_processor(template_helpers)
    views = (
        ("", "index", ["GET"], lambda: index_page(pages)),
        (one, "detail", ["GET"], lambda **ids: detail_page(pages, ids[kind.id_arg], own)),
        ("/new", "new", both, lambda: new_page(pages)),
        (f"{one}/edit", "edit", both, lambda **ids: edit_page(pages, ids[kind.id_arg])),
        (
            f"{one}/{kind.end_verb}",
            kind.end_verb,
            both,
            lambda **ids: end_page(pages, ids[kind.id_arg]),
        ),
    )
    for rule, endpoint, methods, view in views:
        bp.add_url_rule(rule, endpoint, require_login(view), methods=methods)


def template_helpers() -> dict:
    """Names the needs and offers templates use to put values into words."""
    return {
        "unit_label": unit_label,
        "urgency_label": urgency_label,
        "urgency_words": lambda: {str(u): str(label) for u, label in URGENCY_LABELS.items()},
        "need_status_label": lambda s: label_of(NEED_STATUS_LABELS, s),
        "offer_status_label": lambda s: label_of(OFFER_STATUS_LABELS, s),
        "match_status_label": lambda s: label_of(MATCH_STATUS_LABELS, s),
        "page_url": page_url,
    }


def index_page(pages: Pages):
    """The list: filters, sorting and pagination, rows as the viewer may see them (kept for
    the viewer until anything is written: web/kept.py)."""
    kind = pages.kind

    def context() -> dict:
        menu = category_menu(language())
        form = pages.list_form()
        form.set_choices(language(), kind.status_labels, pages.sorts)
        filters, near_place = form.filters(**pages.list_extra(form))
        view = page_view(list_page(kind, current_user, filters), kind.to_dict, near_place)
        return {
            "kind": kind.name,
            "form": form,
            "page": view,
            "menu": menu,
            "near_place": near_place,
            "may_post": pages.may_post(),
        }

    return kept_page(kind.plural, f"{kind.plural}/index.html", context)


def detail_page(pages: Pages, obj_id: int, own: Callable[[object, bool], dict]):
    """One need or offer: progress, location as the viewer may see it, history, and what
    the registered sections (its matches, its candidates) and own(obj, may_edit) add."""
    kind = pages.kind
    obj = pages.get(obj_id)
    data = kind.to_dict(obj, current_user)
    may_edit = may_change(current_user, obj)
    context = {
        kind.name: data,
        "category": obj.category.name(language()),
        "may_edit": may_edit,
        "history": history_of(obj, current_user, exact_shown(data), kind.status_labels),
        **page_sections(kind.name, obj, current_user, may_edit),
        **own(obj, may_edit),
    }
    return pages.render("detail", **context)


def new_page(pages: Pages):
    """Post a need or offer for the user's organization (once per the form's token)."""
    deny_unless(pages.may_post())
    form = pages.form()
    lookup = PlaceLookup()
    if request.method == "POST":
        user = current_user._get_current_object()
        kind = pages.kind
        response, lookup = send_new(
            form,
            lambda data, key: post(kind, user.organization, data, user, idempotency_key=key),
            f"{kind.plural}.detail",
            kind.id_arg,
            {
                "posted": kind.say("posted" if user.organization.verified else "posted_unseen"),
                **{word: kind.say(word) for word in ("again", "changed")},
            },
        )
        if response is not None:
            return response
    give_token(form)
    context = {
        "form": form,
        "lookup": lookup,
        pages.kind.name: None,
        "menu": category_menu(language()),
        "posted_drafts": posted_drafts(
            pages.kind.model, f"{pages.kind.plural}.detail", pages.kind.id_arg
        ),
    }
    return pages.render("form", **context)


def edit_page(pages: Pages, obj_id: int):
    """Edit an open need or offer of the user's organization."""
    kind = pages.kind
    obj = pages.get(obj_id)
    deny_unless(may_change(current_user, obj))
    if obj.effective_status != "open":
        flash(kind.say("edit_refused"), "error")
        return redirect(pages.detail_url(obj_id))
    form = pages.form(data=pages.initial(kind.to_dict(obj, current_user), obj.place))
    lookup = PlaceLookup()
    if request.method == "POST":
        user = current_user._get_current_object()
        lookup, saved = save(form, lambda values: edit(kind, obj, values, user))
        if saved is not None:
            draft_sent(f"{kind.name}:{obj_id}")
            flash(_("Your changes are saved."), "ok")
            return redirect(pages.detail_url(obj_id))
    heading = {"id": obj.id, "title": obj.title}
    menu = category_menu(language(), keep=obj.category_id)
    return pages.render("form", form=form, lookup=lookup, menu=menu, **{kind.name: heading})


def end_page(pages: Pages, obj_id: int):
    """Cancel a need or withdraw an offer (after a confirmation); its matches not yet shipped
    end too."""
    kind = pages.kind
    obj = pages.get(obj_id)
    deny_unless(may_change(current_user, obj))
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            end(kind, obj, current_user._get_current_object(), form.reason.data or "")
        except Refusal as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            flash(kind.say("ended"), "ok")
        return redirect(pages.detail_url(obj_id))
    heading = {"id": obj.id, "title": obj.title, kind.held: getattr(obj, kind.held)}
    return pages.render(kind.end_verb, form=form, **{kind.name: heading})


def exact_shown(data: dict) -> bool:
    """Does this dict (need_to_dict/offer_to_dict) hold the stored point for its viewer?"""
    return data["location"]["precision_km"] == 0


def location_initial(data: dict, place: Place) -> dict:
    """The place box and the exact point, if the organization set one (emptied, an edit
    places the posting at its settlement's centre again)."""
    initial = {"place_id": str(data["place"]["id"]), "place_name": place_label(place)}
    location = data["location"]
    if exact_shown(data) and location["kind"] == "exact":
        initial["lat"], initial["lon"] = repr(location["lat"]), repr(location["lon"])
    return initial


def page_url(page: int) -> str:
    """This list's URL with the same filters, at another page."""
    args = request.args.to_dict()
    args["page"] = page
    return url_for(request.endpoint, **args)


def page_view(page: dict, to_dict, near_place: Place | None) -> dict:
    """A page of rows as dicts for this viewer, with the number of pages."""
    near = {"lat": near_place.lat, "lon": near_place.lon} if near_place else None
    view = page_to_dicts(page, current_user, to_dict, near=near)
    view["pages"] = max(1, math.ceil(view["total"] / view["per_page"]))
    return view
