"""Forms of the matches pages: claim a need, act on a match, review in bulk.

Forms parse types only; whether an action is allowed, and whether a quantity fits, is decided by
the operations (aidmatch/matches/operations.py), whose messages the views put on these forms.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from aidmatch.web.i18n import local_number
from aidmatch.web.kept import one_time_key
from aidmatch.web.labels import options

REASON_MAX = 2000
NOTE_MAX = 2000


def new_idempotency_key() -> str:
    """A random token put into a claim or receipt form when it is drawn: sent twice, it is
    taken once (in a page kept for its viewer, each answer gets its own: web/kept.py)."""
    return one_time_key()


def parse_quantity(field, blank=False) -> int | None:
    """The whole number typed into a quantity field, or None with a message on the field
    (blank=True: an empty field is None without a message, "all of it")."""
    raw = (field.data or "").strip()
    if blank and not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        field.errors = [*field.errors, _("Enter a whole number, like 10.")]
        return None


class ClaimForm(FlaskForm):
    """Claim all or part of a need's open quantity, optionally from one of our offers."""

    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "numeric", "size": 8})
    offer = SelectField(_l("From our offer (optional)"), validate_choice=False, default="")
    idempotency_key = HiddenField()

    def set_offers(self, offers: list, unit: str) -> None:
        """The donor's compatible open offers with something left, as choices."""
        self.offer.choices = options(
            [
                ("", _("No offer: a direct claim")),
                *(
                    (
                        str(o.id),
                        _(
                            "%(title)s (%(n)s %(unit)s left)",
                            title=o.title,
                            n=local_number(o.quantity - o.allocated),
                            unit=unit,
                        ),
                    )
                    for o in offers
                ),
            ]
        )


class RequestForm(FlaskForm):
    """A group asks for a quantity of an offer, for one of its open needs the offer fits."""

    need = SelectField(_l("For our need"), validate_choice=False, default="")
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "numeric", "size": 8})
    idempotency_key = HiddenField()

    def set_needs(self, needs: list, unit: str) -> None:
        """The group's fitting open needs, with what is open of each, as choices."""
        self.need.choices = options(
            [
                (
                    str(n.id),
                    _(
                        "%(title)s (%(n)s %(unit)s open)",
                        title=n.title,
                        n=local_number(open_of(n)),
                        unit=unit,
                    ),
                )
                for n in needs
            ]
        )


def open_of(posting) -> int:
    """What a need or offer still has neither held hard nor proposed (at least 0)."""
    held = posting.pledged if hasattr(posting, "pledged") else posting.allocated
    return max(posting.quantity - held - posting.proposed, 0)


class ActionForm(FlaskForm):
    """A button that changes a match's state (accept, approve, ask for more time)."""


class AcceptForm(FlaskForm):
    """The donor accepts a match: all of it (the field prefilled) or less."""

    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "numeric", "size": 8})


class ApproveForm(FlaskForm):
    """A coordinator approves a match: all of it (prefilled) or less, with a reason then."""

    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "numeric", "size": 8})
    reason = TextAreaField(_l("Reason for less"), validators=[Length(max=REASON_MAX)])


class ReasonForm(FlaskForm):
    """Decline, reject, withdraw or release, with a reason the other side reads."""

    reason = TextAreaField(_l("Reason"), validators=[Length(max=REASON_MAX)])


class ShipForm(FlaskForm):
    """Mark a confirmed match shipped."""

    note = TextAreaField(_l("Shipping note"), validators=[Length(max=NOTE_MAX)])
    tracking = StringField(_l("Tracking (optional)"), validators=[Length(max=200)])


class ReceiptForm(FlaskForm):
    """Confirm receipt: how much arrived, and a note."""

    quantity_received = StringField(
        _l("Quantity received"), render_kw={"inputmode": "numeric", "size": 8}
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=NOTE_MAX)])
    # Sent twice (a phone sending what it kept offline, a double click), it confirms once.
    idempotency_key = HiddenField(default=new_idempotency_key)


class ReviewFilterForm(FlaskForm):
    """The review queue's filters (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    oblast = SelectField(_l("Oblast"), validate_choice=False, default="")
    category = StringField(_l("Category"))  # a <select> of category_menu(), drawn by hand
    flag = SelectField(_l("Flag"), validate_choice=False, default="")
    source = SelectField(_l("Comes from"), validate_choice=False, default="")
    sort = SelectField(_l("Order"), validate_choice=False, default="urgent")
    per_page = HiddenField()


class BulkReviewForm(FlaskForm):
    """Approve or reject the ticked matches (one reason for all rejections)."""

    reason = TextAreaField(_l("Reason for rejecting"), validators=[Length(max=REASON_MAX)])


def with_ids(form, suffix: str):
    """Give the form's fields ids unique on a page holding several such forms (names stay)."""
    for field in form:
        field.id = f"{field.name}-{suffix}"
        field.label.field_id = field.id
    return form
