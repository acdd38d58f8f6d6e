"""Log in, log out, register, account settings and password change."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from aidmatch.auth.forms import (
    AccountForm,
    ForgotPasswordForm,
    LoginForm,
    PasswordForm,
    RegisterForm,
    ResetPasswordForm,
)
from aidmatch.auth.limits import (
    address_key,
    login_rate_limits,
    register_limit,
    reset_email_key,
    reset_limit,
    too_many_resets,
)
from aidmatch.auth.links import safe_next
from aidmatch.auth.operations import (
    authenticate,
    change_password,
    normalise_email,
    register_with_invite,
    register_with_new_org,
    registration_problems,
    update_account,
)
from aidmatch.auth.reset import request_reset, reset_password, user_for_reset_token
from aidmatch.auth.session import note_seen
from aidmatch.extensions import db, limiter
from aidmatch.permissions import require_login
from aidmatch.refusals import Refusal
from aidmatch.web.errors import put_on_form

bp = Blueprint("auth", __name__)

# The session key of the address the login form is filled with after a password reset.
RESET_EMAIL_KEY = "reset_email"

# Operation field names that differ from the registration form's.
REGISTER_FIELDS = {"name": "org_name", "kind": "org_kind", "contact": "org_contact"}


def _start_session(user) -> None:
    """Log the user in on a fresh session (keeping only the chosen language), with a new
    CSRF secret and its use noted: the cookie this answer sets is complete, so the pages
    right after it do not set it again."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    login_user(user)
    note_seen()
    g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)  # the old session's, signed
    generate_csrf()


@bp.route("/login", methods=["GET", "POST"])
@login_rate_limits
def login():
    """Log in with email and password; go on to a local `next` page."""
    next_url = safe_next(request.args.get("next"))
    g.login_failed = False
    if current_user.is_authenticated:
        return redirect(next_url or url_for("core.index"))
    form = LoginForm()
    if request.method == "GET":
        # The address of a password just reset waits in the session (not the URL: access
        # logs, history); one just registered comes in the URL.
        email = session.pop(RESET_EMAIL_KEY, None) or request.args.get("email")
        if email:
            form.email.data = email[:254]
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            g.login_failed = True
            form.form_errors.append(_("Wrong email or password."))
        else:
            _start_session(user)
            return redirect(next_url or url_for("core.index"))
    return render_template("auth/login.html", form=form, next=next_url)


@bp.post("/logout")
def logout():
    """End the session, and every other session of the user: a copied cookie stops working
    (a POST with a CSRF token, so no page can log anyone out)."""
    language = session.get("language")
    if current_user.is_authenticated:
        current_user.end_sessions()
    logout_user()
    session.clear()
    if language:
        session["language"] = language
    flash(_("You have logged out."), "info")
    response = redirect(url_for("core.index"))
    # A shared or seized phone keeps nothing of the session: no drafts of forms
    # (static/js/drafts.js) in storage, no private pages in the cache.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


def _registered(email: str):
    """The one answer to a registration that passed every check: whether the address was new
    (the account is made) or had an account already, the same redirect and message."""
    flash(
        _(
            "Thank you. If this email address was new, your account is ready: log in below. "
            "If it already had an account, log in with that account's password."
        ),
        "ok",
    )
    return redirect(url_for("auth.login", email=normalise_email(email)))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(
    register_limit,
    key_func=address_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 302,
    error_message=lambda: _("Too many registrations from your network. Please try again later."),
)
def register():
    """Sign up with a new organization, or join one with an invite code."""
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = RegisterForm()
    if request.method == "GET":
        form.language.data = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
        if request.args.get("invite"):
            form.mode.data = RegisterForm.JOIN
            form.invite_code.data = request.args["invite"][:64]
    if form.validate_on_submit():
        try:
            if form.mode.data == RegisterForm.JOIN:
                register_with_invite(
                    form.invite_code.data,
                    form.email.data,
                    form.password.data,
                    form.display_name.data,
                    language=form.language.data,
                )
            else:
                register_with_new_org(
                    form.email.data,
                    form.password.data,
                    form.display_name.data,
                    form.org_name.data,
                    form.org_kind.data,
                    contact=form.org_contact.data,
                    language=form.language.data,
                )
        except Refusal as err:
            db.session.rollback()
            if err.code != "email_taken":
                put_on_form(form, err, REGISTER_FIELDS)
                _all_problems_on(form)
                return render_template("auth/register.html", form=form)
            # A taken address is answered as a new one is: nobody learns who has an account
            # (the owner will get an e-mail once e-mail exists).
        session["language"] = form.language.data
        return _registered(form.email.data)
    if request.method == "POST":
        _all_problems_on(form)
    return render_template("auth/register.html", form=form)


def _all_problems_on(form: RegisterForm) -> None:
    """Put what the verbs would also refuse (a weak password, a taken organization name, a bad
    invite code) next to the form's own errors, so that a person sees every one at once."""
    problems = registration_problems(
        form.email.data or "",
        form.password.data or "",
        form.mode.data != RegisterForm.JOIN,
        form.org_name.data or "",
        form.invite_code.data or "",
    )
    for err in problems:
        named = REGISTER_FIELDS.get(err.field, err.field)
        if named in form._fields and not form._fields[named].errors:
            put_on_form(form, err, REGISTER_FIELDS)


def _render_account(account_form=None, password_form=None):
    user = current_user
    account_form = account_form or AccountForm(
        formdata=None,
        display_name=user.display_name,
        language=str(user.language),
        timezone=user.timezone or current_app.config["BABEL_DEFAULT_TIMEZONE"],
    )
    password_form = password_form or PasswordForm(formdata=None)
    return render_template(
        "auth/account.html", account_form=account_form, password_form=password_form
    )


@bp.route("/account", methods=["GET", "POST"])
@require_login
def account():
    """Show and change the display name, language and time zone."""
    if request.method == "GET":
        return _render_account()
    form = AccountForm()
    if form.validate_on_submit():
        try:
            update_account(
                current_user._get_current_object(),
                form.display_name.data,
                form.language.data,
                timezone=form.timezone.data or None,
            )
        except Refusal as err:
            db.session.rollback()
            put_on_form(form, err)
        else:
            session["language"] = str(current_user.language)
            flash(_("Your settings are saved."), "ok")
            return redirect(url_for("auth.account"))
    return _render_account(account_form=form)


@bp.post("/account/password")
@require_login
def password():
    """Change the password (the current one is asked for); other sessions end, this one
    goes on under a fresh session."""
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password(user, form.old_password.data, form.new_password.data)
        except Refusal as err:
            db.session.rollback()
            put_on_form(form, err)
        else:
            _start_session(user)
            flash(_("Your password is changed. You are logged out everywhere else."), "ok")
            return redirect(url_for("auth.account"))
    return _render_account(password_form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(
    reset_limit,
    key_func=reset_email_key,
    methods=["POST"],
    scope="password-reset-email",
    error_message=too_many_resets,
)
@limiter.limit(
    reset_limit,
    key_func=address_key,
    methods=["POST"],
    scope="password-reset-address",
    error_message=too_many_resets,
)
def forgot_password():
    """Ask for a password reset link: the same answer whether the address has an account or
    not (an e-mail is sent only when it has one)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        request_reset(form.email.data)
        flash(
            _(
                "If an account has this address, a link to choose a new password is on its way "
                "to it. The link works for %(minutes)d minutes. Nothing arrived? Look in the "
                "spam folder, or ask again later.",
                minutes=current_app.config["PASSWORD_RESET_TTL_MINUTES"],
            ),
            "ok",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    """Choose a new password from a reset link; every session and API token of the account
    ends. A forged, expired or used link is refused with a way to ask again."""
    try:
        user = user_for_reset_token(token)
    except Refusal as err:
        return render_template("auth/reset_refused.html", message=err.message), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            unlinked = reset_password(user, form.new_password.data)
        except Refusal as err:
            db.session.rollback()
            if err.code == "reset_link_used":
                return render_template("auth/reset_refused.html", message=err.message), 400
            put_on_form(form, err)
        else:
            language = session.get("language")
            logout_user()
            session.clear()
            if language:
                session["language"] = language
            session[RESET_EMAIL_KEY] = user.email
            flash(
                _("Your password is changed. Log in with it; every other session has ended."),
                "ok",
            )
            if unlinked:
                flash(
                    _("Your Telegram chat was unlinked; link it again from your account."), "info"
                )
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, token=token)
