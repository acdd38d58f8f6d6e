"""Forms of the account pages: log in, register, account settings, change password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from aidmatch.auth.operations import MAX_DISPLAY_NAME_LENGTH, MAX_EMAIL_LENGTH
from aidmatch.orgs.forms import choice, org_kind_choices
from aidmatch.orgs.operations import MAX_CONTACT_LENGTH, MAX_NAME_LENGTH
from aidmatch.web.i18n import COMMON_TIMEZONES, known_timezones

LANGUAGE_CHOICES = [choice("uk", "Українська"), choice("en", "English"), choice("de", "Deutsch")]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


_required = DataRequired(message=_l("This field is required."))
_email = Email(message=_l("This is not a valid email address."))


class LoginForm(FlaskForm):
    email = StringField(_l("Email"), filters=[_strip], validators=[_required, _email])
    password = PasswordField(_l("Password"), validators=[_required])


class RegisterForm(FlaskForm):
    NEW = "new"
    JOIN = "join"

    email = StringField(
        _l("Email"),
        filters=[_strip],
        validators=[_required, _email, Length(max=MAX_EMAIL_LENGTH)],
    )
    display_name = StringField(
        _l("Your name"),
        filters=[_strip],
        validators=[_required, Length(max=MAX_DISPLAY_NAME_LENGTH)],
    )
    password = PasswordField(_l("Password"), validators=[_required])
    password_confirm = PasswordField(
        _l("Password again"),
        validators=[_required, EqualTo("password", message=_l("The two passwords differ."))],
    )
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="uk")
    mode = RadioField(
        _l("Your organization"),
        choices=[
            choice(NEW, _l("Register a new organization")),
            choice(JOIN, _l("Join an organization with an invite code")),
        ],
        default=NEW,
        validators=[_required],
    )
    org_name = StringField(
        _l("Name of the organization"), filters=[_strip], validators=[Length(max=MAX_NAME_LENGTH)]
    )
    org_kind = SelectField(
        _l("Kind of organization"), choices=[choice("", "—"), *org_kind_choices()], default=""
    )
    org_contact = TextAreaField(
        _l("Contact for coordinators (optional)"),
        filters=[_strip],
        validators=[Length(max=MAX_CONTACT_LENGTH)],
    )
    invite_code = StringField(_l("Invite code"), filters=[_strip])

    def validate_org_name(self, field):
        if self.mode.data == self.NEW and not field.data:
            raise ValidationError(_l("Enter the organization's name."))

    def validate_org_kind(self, field):
        if self.mode.data == self.NEW and not field.data:
            raise ValidationError(_l("Choose the kind of organization."))

    def validate_invite_code(self, field):
        if self.mode.data == self.JOIN and not field.data:
            raise ValidationError(_l("Enter the invite code you were given."))


def timezone_choices() -> dict:
    """The zones of /account's select: the common ones first, then every zone by area."""
    common = [choice(zone, zone.replace("_", " ")) for zone in COMMON_TIMEZONES]
    others = sorted(known_timezones() - set(COMMON_TIMEZONES))
    return {
        str(_l("Common")): common,
        str(_l("All time zones")): [choice(zone, zone.replace("_", " ")) for zone in others],
    }


class AccountForm(FlaskForm):
    display_name = StringField(
        _l("Your name"),
        filters=[_strip],
        validators=[_required, Length(max=MAX_DISPLAY_NAME_LENGTH)],
    )
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    # Its choices are set per request (timezone_choices: the group labels are translated);
    # the verb checks the value (update_account), so a stale form cannot store a bad zone.
    timezone = SelectField(_l("Time zone"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class PasswordForm(FlaskForm):
    old_password = PasswordField(_l("Current password"), validators=[_required])
    new_password = PasswordField(_l("New password"), validators=[_required])
    new_password_confirm = PasswordField(
        _l("New password again"),
        validators=[_required, EqualTo("new_password", message=_l("The two passwords differ."))],
    )


class ForgotPasswordForm(FlaskForm):
    email = StringField(
        _l("Email"), filters=[_strip], validators=[_required, _email, Length(max=MAX_EMAIL_LENGTH)]
    )


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[_required])
    new_password_confirm = PasswordField(
        _l("New password again"),
        validators=[_required, EqualTo("new_password", message=_l("The two passwords differ."))],
    )
