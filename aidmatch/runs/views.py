"""HTML pages of matching runs: start one, see recent runs and a run's proposals (staff)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField

from aidmatch.candidates.explain import explanation_text
from aidmatch.categories.menu import category_menu
from aidmatch.extensions import db
from aidmatch.permissions import require_staff
from aidmatch.places.labels import oblast_choices, oblast_label
from aidmatch.refusals import Refusal
from aidmatch.runs.job import request_run
from aidmatch.runs.models import MatchingRun, RunStatus
from aidmatch.runs.queries import recent_runs, run_proposals
from aidmatch.web.labels import MATCH_STATUS_LABELS, label_of, language, options, unit_label

bp = Blueprint("matching", __name__, url_prefix="/matching")

ALLOCATOR_LABELS = {
    "flow": _l("Best overall"),
    "greedy": _l("Fast, one by one"),
}
RUN_STATUS_LABELS = {
    RunStatus.QUEUED: _l("waiting to start"),
    RunStatus.RUNNING: _l("running"),
    RunStatus.FINISHED: _l("finished"),
    RunStatus.FAILED: _l("failed"),
}
# What a running run is doing (MatchingRun.stage, written by runs.job).
STAGE_LABELS = {
    "loading": _l("loading needs and offers"),
    "candidates": _l("finding candidates"),
    "allocation": _l("allocating"),
    "storing": _l("storing proposals"),
}
# Seconds between two reloads of a run's page while it is queued or running.
REFRESH_SECONDS = 3
TIMING_LABELS = {
    "load_s": _l("loading"),
    "engine_candidates_s": _l("candidates"),
    "engine_allocation_s": _l("allocation"),
    "engine_total_s": _l("engine in all"),
    "store_s": _l("storing proposals"),
}
# Skipped rows are counted under "kind:reason" (engine.records, runs.loading, runs.storing).
SKIP_KINDS = {
    "need": _l("needs"),
    "offer": _l("offers"),
    "pair": _l("pairs"),
    "proposal": _l("proposals"),
}
SKIP_REASONS = {
    "unverified_group": _l("group not verified"),
    "unverified_organization": _l("organization not verified"),
    "already_matched": _l("already matched, or refused before"),
    "closed_meanwhile": _l("closed meanwhile"),
    "refused": _l("refused"),
    "reserved_meanwhile": _l("taken meanwhile"),
    "reduced_meanwhile": _l("reduced meanwhile"),
    "bad_id": _l("invalid id"),
    "duplicate_id": _l("duplicate id"),
    "unknown_category": _l("unknown category"),
    "unit_mismatch": _l("unit differs from the category's"),
    "no_coordinates": _l("no coordinates"),
    "over_reserved": _l("more reserved than it has"),
    "no_quantity": _l("nothing left"),
    "bad_quantity": _l("quantity not a whole number"),
    "bad_urgency": _l("unknown urgency"),
    "bad_radius": _l("invalid delivery radius"),
    "bad_timestamp": _l("invalid date"),
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
        self.oblast.choices = options([("", _("All oblasts")), *oblast_choices()])
        self.allocator.choices = [(k, str(v)) for k, v in ALLOCATOR_LABELS.items()]


def skip_label(key: str) -> str:
    """A count's key of skipped rows in words: "need:no_coordinates" -> "needs – no
    coordinates" (an unknown key as it is)."""
    kind, _sep, reason = key.partition(":")
    return f"{SKIP_KINDS.get(kind, kind)} – {SKIP_REASONS.get(reason, reason)}"


def scope_text(run: MatchingRun) -> str:
    """What a run covered, in words: its category and oblast, or everything."""
    params = run.parameters or {}
    words = []
    if params.get("category"):
        key = f"category_names_{language()}"  # one query per page, however many runs
        if key not in g:
            setattr(g, key, category_menu(language()).names)
        words.append(getattr(g, key).get(params["category"], params["category"]))
    if params.get("oblast"):
        words.append(oblast_label(params["oblast"]))
    return ", ".join(words) or _("everything")


@bp.context_processor
def _helpers() -> dict:
    return {
        "run_status_label": lambda s: str(RUN_STATUS_LABELS.get(s, s)),
        "stage_label": lambda s: str(STAGE_LABELS.get(s, s or "")),
        "skip_label": skip_label,
        "skip_reason_label": lambda r: str(SKIP_REASONS.get(r, r)),
        "scope_text": scope_text,
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
            run = request_run(
                user, form.category.data or None, form.oblast.data or None, form.allocator.data
            )
        except Refusal as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            flash(_("The run has started. This page shows how far it is."), "ok")
            return redirect(url_for("matching.run", run_id=run.id))
    elif form.is_submitted() and "csrf_token" in form.errors:
        flash(_("The form had expired. Please send it again."), "error")
    return render_template("matching/index.html", form=form, runs=recent_runs())


@bp.get("/runs/<int:run_id>")
@require_staff
def run(run_id: int):
    """One run: its scope, figures, skipped reasons, and the proposals it made."""
    matching_run = db.session.get(MatchingRun, run_id)
    if matching_run is None:
        abort(404)
    under_way = matching_run.status in (RunStatus.QUEUED, RunStatus.RUNNING)
    proposals = [] if under_way else run_proposals(run_id)
    return render_template(
        "matching/run.html",
        run=matching_run,
        proposals=proposals,
        refresh=REFRESH_SECONDS if under_way else None,
    )
