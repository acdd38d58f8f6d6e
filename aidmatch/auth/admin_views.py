"""/admin/users: the admins' list of accounts (search, filters, pages) and what they change
there (disable, enable, change role), each through the verbs of auth/admin.py."""

from __future__ import annotations

import math

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aidmatch.auth.admin import (
    STATES,
    UserFilters,
    change_role,
    disable_user,
    enable_user,
    users_query,
)
from aidmatch.auth.links import safe_next
from aidmatch.auth.models import User
from aidmatch.extensions import db
from aidmatch.permissions import Role, require_role
from aidmatch.refusals import Refusal
from aidmatch.web.api import paginate
from aidmatch.web.labels import ROLE_LABELS, role_label
from aidmatch.web.text import search_terms

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")

PER_PAGE = 50


def _page_number() -> int:
    try:
        page = int(request.args.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return page if 1 <= page <= 100_000 else 1


def _filters() -> UserFilters:
    role = request.args.get("role") or None
    state = request.args.get("state") or None
    return UserFilters(
        q=search_terms(request.args.get("q")),
        role=role if role in ROLE_LABELS else None,
        state=state if state in STATES else None,
    )


@bp.get("")
@require_role(Role.ADMIN)
def index():
    """Accounts, newest first: found by name or e-mail, filtered by role and state."""
    filters = _filters()
    page = paginate(users_query(filters), _page_number(), PER_PAGE, scalars=False)
    page["pages"] = max(1, math.ceil(page["total"] / page["per_page"]))
    kept = {k: v for k, v in vars(filters).items() if v}
    return render_template(
        "admin/users.html",
        page=page,
        filters=filters,
        roles=[(value, str(label)) for value, label in ROLE_LABELS.items()],
        states=[("active", _("active")), ("disabled", _("disabled"))],
        role_label=role_label,
        here=request.full_path.rstrip("?"),
        page_url=lambda n: url_for("admin_users.index", **kept, page=n),
    )


def _act(user_id: int, verb, done: str):
    user = db.get_or_404(User, user_id)
    back = safe_next(request.form.get("next")) or url_for("admin_users.index")
    try:
        verb(current_user._get_current_object(), user)
    except Refusal as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        flash(done % {"email": user.email}, "ok")
    return redirect(back)


@bp.post("/<int:user_id>/disable")
@require_role(Role.ADMIN)
def disable(user_id: int):
    """Disable an account: its sessions and API tokens end now."""
    return _act(
        user_id,
        disable_user,
        _("%(email)s is disabled: its sessions and API tokens have ended."),
    )


@bp.post("/<int:user_id>/enable")
@require_role(Role.ADMIN)
def enable(user_id: int):
    """Let a disabled account log in again."""
    return _act(user_id, enable_user, _("%(email)s may log in again."))


@bp.post("/<int:user_id>/role")
@require_role(Role.ADMIN)
def role(user_id: int):
    """Give an account another role."""
    chosen = request.form.get("role", "")
    return _act(
        user_id,
        lambda actor, user: change_role(actor, user, chosen),
        _("%(email)s has a new role."),
    )
