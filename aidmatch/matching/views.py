"""HTML pages of matching runs: start one, see recent runs and a run's proposals (staff)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField

from aidmatch.errors import ApiError
from aidmatch.extensions import db
from aidmatch.matches.models import MatchingRun, RunStatus
from aidmatch.needs.forms import (
    MATCH_STATUS_LABELS,
    category_menu,
    label_of,
    language,
    oblast_choices,
    options,
    unit_label,
)
from aidmatch.permissions import require_staff

from .service import (
    candidates_for_need,
    candidates_for_offer,
    explanation_text,
    proposals_awaiting_donor,
    recent_runs,
    run_matching,
    run_proposals,
)

bp = Blueprint("matching", __name__, url_prefix="/matching")

ALLOCATOR_LABELS = {
    "flow": _l("Most quantity, best scores (min-cost flow)"),
    "greedy": _l("Best score first (greedy)"),
}
RUN_STATUS_LABELS = {
    RunStatus.RUNNING: _l("running"),
    RunStatus.FINISHED: _l("finished"),
    RunStatus.FAILED: _l("failed"),
}
TIMING_LABELS = {
    "load_s": _l("loading"),
    "engine_candidates_s": _l("candidates"),
    "engine_allocation_s": _l("allocation"),
    "engine_total_s": _l("engine in all"),
    "store_s": _l("storing proposals"),
}


class RunForm(FlaskForm):
    """Start a matching run: optional category branch and oblast."""

    category = SelectField(_l("Category"), validate_choice=False, default="")
    oblast = SelectField(_l("Oblast"), validate_choice=False, default="")
    allocator = SelectField(_l("Allocation"), default="flow")

    def set_choices(self, lang: str) -> None:
        """Fill the selects: the category tree, the oblasts and the allocators."""
        menu = category_menu(lang)
        categories = [("", _("All categories"))]
        for group in menu.groups:
            categories.append((group["slug"], group["name"]))
            categories += [(c["slug"], f"— {c['name']}") for c in group["children"]]
        self.category.choices = options(categories)
        self.oblast.choices = options([("", _("All oblasts")), *oblast_choices(lang)])
        self.allocator.choices = [(k, str(v)) for k, v in ALLOCATOR_LABELS.items()]


@bp.context_processor
def _helpers() -> dict:
    return {
        "run_status_label": lambda s: str(RUN_STATUS_LABELS.get(s, s)),
        "timing_label": lambda k: str(TIMING_LABELS.get(k, k)),
        "timing_shown": lambda k: k in TIMING_LABELS,
        "explanation_text": explanation_text,
        "unit_label": unit_label,
        "match_status_label": lambda s: label_of(MATCH_STATUS_LABELS, s),
    }


@bp.route("", methods=["GET", "POST"])
@require_staff
def index():
    """Start a run (the form), and the recent runs with their counts and timings."""
    form = RunForm()
    form.set_choices(language())
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            run = run_matching(
                user, form.category.data or None, form.oblast.data or None, form.allocator.data
            )
        except ApiError as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            if run.status == RunStatus.FINISHED:
                flash(
                    _("The run made %(n)d proposals.", n=run.proposals),
                    "ok",
                )
            else:
                flash(_("The run failed: %(error)s", error=run.error or ""), "error")
            return redirect(url_for("matching.run", run_id=run.id))
    elif form.is_submitted() and "csrf_token" in form.errors:
        flash(_("The form had expired. Please send it again."), "error")
    runs = recent_runs()
    db.session.commit()
    return render_template("matching/index.html", form=form, runs=runs)


@bp.get("/runs/<int:run_id>")
@require_staff
def run(run_id: int):
    """One run: its scope, figures, skipped reasons, and the proposals it made."""
    matching_run = db.session.get(MatchingRun, run_id)
    if matching_run is None:
        abort(404)
    proposals = run_proposals(run_id)
    db.session.commit()
    return render_template("matching/run.html", run=matching_run, proposals=proposals)


def need_page_candidates(need, viewer) -> dict:
    """What templates/_candidates.html needs on a need's page: the offers that could cover it."""
    return {"candidates": candidates_for_need(need, viewer), "candidates_kind": "offers"}


def offer_page_candidates(offer, viewer, own: bool) -> dict:
    """What templates/_candidates.html needs on an offer's page: the needs it could cover and,
    for the donor's own offer, the engine's proposals waiting for its answer."""
    return {
        "candidates": candidates_for_offer(offer, viewer),
        "candidates_kind": "needs",
        "proposals_waiting": proposals_awaiting_donor(offer, viewer) if own else [],
        "answer_buttons": "matches.act" in current_app.view_functions,
    }
