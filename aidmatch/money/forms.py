"""The forms of money: a need's cost, a pledge, a month received, what the money bought, a
group's payment details, a fundraiser. Amounts are typed in major units ("1500.50")."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField

from aidmatch.money.models import Cadence, Currency

CURRENCY_CHOICES = [(c.value, c.value) for c in Currency]
AMOUNT = {"inputmode": "decimal", "size": 10}


class CostForm(FlaskForm):
    amount = StringField(_l("What it costs"), render_kw=AMOUNT)
    currency = SelectField(_l("Currency"), choices=CURRENCY_CHOICES, validate_choice=False)


class PledgeForm(FlaskForm):
    amount = StringField(_l("Amount (each month, for a monthly pledge)"), render_kw=AMOUNT)
    currency = SelectField(_l("Currency"), choices=CURRENCY_CHOICES, validate_choice=False)
    cadence = SelectField(
        _l("How often"),
        choices=[(Cadence.ONCE.value, _l("once")), (Cadence.MONTHLY.value, _l("every month"))],
        validate_choice=False,
    )
    months = StringField(
        _l("For how many months"), default="1", render_kw={"inputmode": "numeric", "size": 4}
    )
    first_due = StringField(_l("First payment on (YYYY-MM-DD)"), render_kw={"size": 10})
    note = TextAreaField(_l("Note (optional)"))


class ReceivedForm(FlaskForm):
    amount = StringField(_l("Amount received"), render_kw=AMOUNT)
    received_on = StringField(_l("Arrived on (YYYY-MM-DD)"), render_kw={"size": 10})


class SpendingForm(FlaskForm):
    amount = StringField(_l("Amount spent"), render_kw=AMOUNT)
    currency = SelectField(_l("Currency"), choices=CURRENCY_CHOICES, validate_choice=False)
    items = TextAreaField(_l("What it bought"))
    spent_on = StringField(_l("Bought on (YYYY-MM-DD)"), render_kw={"size": 10})
    photo = FileField(_l("Receipt photo (optional; its metadata is removed)"))


class PaymentDetailsForm(FlaskForm):
    iban = StringField(_l("IBAN"), render_kw={"size": 34, "autocomplete": "off"})
    card = StringField(_l("Card number"), render_kw={"inputmode": "numeric", "autocomplete": "off"})
    link = StringField(_l("Payment link (https://…)"))
    holder = StringField(_l("Account holder"))


class FundraiserForm(FlaskForm):
    title = StringField(_l("Title"))
    description = TextAreaField(_l("Description"))
    need_ids = StringField(_l("Needs (their numbers, separated by commas)"))
