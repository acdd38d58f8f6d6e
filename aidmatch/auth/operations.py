"""Account verbs: create users, register, authenticate, change password or settings.

Like every operations module: they flush and audit, never commit, never read the request.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from aidmatch.audit.operations import record
from aidmatch.auth.models import Language, User
from aidmatch.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from aidmatch.auth.tokens import revoke_all
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.orgs.models import OrgKind, OrgRole
from aidmatch.orgs.operations import (
    check_name_free,
    create_organization,
    mark_invite_used,
    redeem_invite,
)
from aidmatch.permissions import STAFF_ROLES, Role, role_fits_org, role_for_org_kind
from aidmatch.refusals import Conflict, Invalid, Refusal
from aidmatch.web.i18n import is_timezone

MAX_EMAIL_LENGTH = 254
MAX_DISPLAY_NAME_LENGTH = 120


def normalise_email(email: str | None) -> str:
    """The stored form of an email address: stripped and lower-cased."""
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    """The user with this email address, whatever its case."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _taken_email() -> Conflict:
    return Conflict(
        _l("An account with this email address exists already. Log in instead?"),
        field="email",
        code="email_taken",
    )


def _checked_user_input(
    email: str, password: str, display_name: str, language: str, check_taken: bool = True
) -> tuple[str, str, Language]:
    """Validate what a new account is made of; return email, display name and language.
    Registration leaves the taken-address check to the end (create_user), after everything
    else, so that no other answer depends on whether the address has an account."""
    email = normalise_email(email)
    if not email:
        raise Invalid(_l("Enter your email address."), field="email")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise Invalid(_l("This is not a valid email address."), field="email") from None
    if len(email) > MAX_EMAIL_LENGTH:
        raise Invalid(_l("This email address is too long."), field="email")
    if check_taken and find_user(email) is not None:
        raise _taken_email()
    display_name = " ".join((display_name or "").split())
    if not display_name:
        raise Invalid(_l("Enter the name others will see."), field="display_name")
    if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        raise Invalid(
            _l("Use at most %(num)d characters.", num=MAX_DISPLAY_NAME_LENGTH),
            field="display_name",
        )
    _check_password(password, email, field="password")
    try:
        language = Language(language)
    except ValueError:
        raise Invalid(_l("Choose Ukrainian, English or German."), field="language") from None
    return email, display_name, language


def _check_password(password: str, email: str, field: str) -> None:
    problem = password_problem(
        password or "", current_app.config["PASSWORD_MIN_LENGTH"], email=email
    )
    if problem:
        raise Invalid(problem, field=field, code="weak_password")


def create_user(
    email: str,
    password: str,
    display_name: str,
    role: Role,
    organization=None,
    actor=None,
    language="uk",
) -> User:
    """Create an account; refuse a taken email, a weak password or a role that fits no org."""
    email, display_name, language = _checked_user_input(email, password, display_name, language)
    try:
        role = Role(role)
    except ValueError:
        raise Invalid(
            _l("Choose a role: organizer, donor, coordinator or admin."), field="role"
        ) from None
    if organization is None and role not in STAFF_ROLES:
        raise Invalid(_l("Organizers and donors belong to an organization."), field="organization")
    if not role_fits_org(role, organization):
        raise Invalid(
            _l("Organizers belong to frontline groups, donors to donor or supply collectives."),
            field="role",
        )
    password_hash = hash_password(password)
    # The first member of an organization (who registered it) owns it; others join as members.
    org_role = OrgRole.OWNER if organization is not None and not organization.members else None
    try:
        # A savepoint: of two registrations of one email at once, the second fails cleanly.
        # (The user is made inside it, so the savepoint's opening flush does not meet it.)
        with db.session.begin_nested():
            user = User(
                email=email,
                password_hash=password_hash,
                display_name=display_name,
                role=role,
                organization=organization,
                org_role=org_role or OrgRole.MEMBER,
                language=language,
                active=True,
            )
            db.session.add(user)
    except IntegrityError:
        raise _taken_email() from None
    record(
        actor,
        "user.create",
        user,
        after={
            "email": email,
            "role": role,
            "organization_id": user.organization_id,
            "display_name": display_name,
        },
    )
    return user


def registration_problems(
    email: str, password: str, new_org: bool, org_name: str, invite_code: str
) -> list[Refusal]:
    """What a registration would also be refused for, beyond a form's own checks, all at once
    (the verbs below stop at the first): a weak password, a taken organization name, an
    unknown, used or expired invite code. Writes nothing: the code is tried in a savepoint
    that is rolled back."""
    problems: list[Refusal] = []
    try:
        _check_password(password, normalise_email(email or ""), field="password")
    except Refusal as err:
        problems.append(err)
    try:
        if new_org and org_name:
            check_name_free(" ".join(org_name.split()))
        elif not new_org and invite_code:
            nested = db.session.begin_nested()
            try:
                redeem_invite(invite_code)
            finally:
                nested.rollback()
    except Refusal as err:
        problems.append(err)
    return problems


def register_with_new_org(
    email: str,
    password: str,
    display_name: str,
    org_name: str,
    org_kind: OrgKind,
    contact: str = "",
    language="uk",
) -> User:
    """Sign up with a new (unverified) organization; the role follows from its kind."""
    _checked_user_input(email, password, display_name, language, check_taken=False)
    org = create_organization(org_name, org_kind, contact=contact)
    return create_user(
        email, password, display_name, role_for_org_kind(org.kind), org, language=language
    )


def register_with_invite(
    code: str, email: str, password: str, display_name: str, language="uk"
) -> User:
    """Sign up into an existing organization with one of its invite codes."""
    _checked_user_input(email, password, display_name, language, check_taken=False)
    invite = redeem_invite(code)
    org = invite.organization
    user = create_user(
        email, password, display_name, role_for_org_kind(org.kind), org, language=language
    )
    mark_invite_used(invite, user)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None; upgrades an outdated password hash."""
    user = find_user(email) if email else None
    # Verify even without a user, so the time taken does not tell which emails exist.
    if not verify_password(user.password_hash if user else None, password or ""):
        return None
    if not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def change_password(user: User, old: str, new: str) -> User:
    """Replace the password after checking the current one; the new one must be strong.

    Every session made before (User.get_id) and every API token of the user stop working:
    a password is changed because someone else may know it.
    """
    if not verify_password(user.password_hash, old or ""):
        raise Invalid(_l("This is not your current password."), field="old_password")
    if new == old:
        raise Invalid(
            _l("The new password must differ from the current one."), field="new_password"
        )
    _check_password(new, user.email, field="new_password")
    user.password_hash = hash_password(new)
    revoke_all(user)
    db.session.flush()
    record(user, "user.change_password", user)
    return user


def update_account(user: User, display_name: str, language, timezone=None) -> User:
    """Change the display name, the preferred language and (when given) the time zone the
    user's times are shown in (an IANA name, web/i18n.is_timezone)."""
    display_name = " ".join((display_name or "").split())
    if not display_name:
        raise Invalid(_l("Enter the name others will see."), field="display_name")
    if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        raise Invalid(
            _l("Use at most %(num)d characters.", num=MAX_DISPLAY_NAME_LENGTH),
            field="display_name",
        )
    try:
        language = Language(language)
    except ValueError:
        raise Invalid(_l("Choose Ukrainian, English or German."), field="language") from None
    if timezone is not None and not is_timezone(timezone):
        raise Invalid(_l("Choose a time zone from the list."), field="timezone")
    fields = ("display_name", "language", "timezone")
    before = {field: getattr(user, field) for field in fields}
    user.display_name = display_name
    user.language = language
    if timezone is not None:
        user.timezone = timezone
    db.session.flush()
    after = {field: getattr(user, field) for field in fields}
    if after != before:
        record(user, "user.update", user, before=before, after=after)
    return user
