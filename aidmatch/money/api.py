"""/api/v1: money for priced needs (the same verbs as the pages: money/operations.py).

404 for a need or pledge the caller may not see, 403 for the wrong side or role, 409 for a
wrong state (a pledge decided twice, a month confirmed twice), 422 naming each bad field.
The group's payment details are null unless privacy/policy.sees_payment_details allows them.
aidmatch never holds, moves or processes money."""

from __future__ import annotations

from functools import wraps

from flask import request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from aidmatch.extensions import db
from aidmatch.money import fundraisers, operations, spending
from aidmatch.money.schemas import (
    CostIn,
    FundraiserIn,
    FundraiserOut,
    MoneyReasonIn,
    NeedMoneyOut,
    PaymentDetailsIn,
    PaymentDetailsOut,
    PledgeIn,
    PledgeOut,
    ReceiptFileIn,
    ReceivedIn,
    SpendingFormIn,
)
from aidmatch.money.serialize import need_money, payment_details_dict, pledge_to_dict
from aidmatch.needs.kind import NEED
from aidmatch.orgs.models import Organization
from aidmatch.orgs.payment import set_payment_details
from aidmatch.photos.images import MAX_BYTES
from aidmatch.postings.queries import find_visible
from aidmatch.refusals import Invalid, NotFound
from aidmatch.web.api import make_blueprint, token_required

blp = make_blueprint(
    "api_money", __name__, tag="Money", description="Money pledges to priced needs"
)


def _user():
    return current_user._get_current_object()


@blp.route("/needs/<int:need_id>/money", methods=["GET"])
@token_required
@blp.response(200, NeedMoneyOut)
def need_money_(need_id):
    """The need's cost, totals per currency (pledged, received, spent), the pledges the caller
    may see and what the money bought."""
    return need_money(find_visible(NEED, _user(), need_id), _user())


@blp.route("/needs/<int:need_id>/cost", methods=["PUT"])
@token_required
@blp.arguments(CostIn)
@blp.response(200, NeedMoneyOut)
def put_cost(payload, need_id):
    """The group prices its need: amount (minor units) and currency."""
    need = find_visible(NEED, _user(), need_id)
    operations.set_cost(need, _user(), payload["amount_minor"], payload["currency"])
    return need_money(need, _user())


@blp.route("/needs/<int:need_id>/money-pledges", methods=["POST"])
@token_required
@blp.arguments(PledgeIn)
@blp.response(201, PledgeOut)
def post_pledge(payload, need_id):
    """A collective pledges money, once or monthly (months: 1 to 24); it waits for a coordinator."""
    need = find_visible(NEED, _user(), need_id)
    item = operations.pledge(need, _user(), **payload)
    return pledge_to_dict(item, _user()), 201


@blp.route("/money-pledges/<int:pledge_id>", methods=["GET"])
@token_required
@blp.response(200, PledgeOut)
def get_pledge(pledge_id):
    """A pledge with its installments; payment details once a coordinator confirmed it."""
    return pledge_to_dict(operations.get_pledge(_user(), pledge_id), _user())


@blp.route("/money-pledges/<int:pledge_id>/<any(confirm, reject, cancel):action>", methods=["POST"])
@token_required
@blp.arguments(MoneyReasonIn)
@blp.response(200, PledgeOut)
def act(payload, pledge_id, action):
    """A coordinator confirms or rejects (with a reason); the collective cancels."""
    item = operations.get_pledge(_user(), pledge_id)
    if action == "cancel":
        operations.cancel(item, _user(), payload["reason"])
    else:
        operations.decide(item, _user(), action == "confirm", payload["reason"])
    return pledge_to_dict(item, _user())


@blp.route("/money-installments/<int:installment_id>/received", methods=["POST"])
@token_required
@blp.arguments(ReceivedIn)
@blp.response(200, PledgeOut)
def received(payload, installment_id):
    """The group confirms the amount that arrived for this month (it may differ)."""
    inst = operations.get_installment(_user(), installment_id)
    operations.confirm_received(inst, _user(), payload["amount_minor"], payload["received_on"])
    return pledge_to_dict(inst.pledge, _user())


def room_for_a_receipt(view):
    """Let this request's body be as large as a photo (the app's limit is smaller), and find
    the need (404 for one the caller may not see) before the body is read."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        request.max_content_length = MAX_BYTES + 64 * 1024
        find_visible(NEED, _user(), kwargs.get("need_id"))
        return view(*args, **kwargs)

    return wrapped


@blp.route("/needs/<int:need_id>/spending", methods=["POST"])
@token_required
@room_for_a_receipt
@blp.arguments(SpendingFormIn, location="form")
@blp.arguments(ReceiptFileIn, location="files")
@blp.response(201, NeedMoneyOut)
def post_spending(form, files, need_id):
    """What the money bought (multipart: amount_minor, currency, items, spent_on and an
    optional photo): the photo re-encoded as a JPEG without EXIF, GPS, ICC or XMP."""
    need = find_visible(NEED, _user(), need_id)
    upload = files.get("photo")
    if upload is not None and not hasattr(upload, "read"):
        raise Invalid(_("Send the photo as a file."), "photo")
    spending.report_spending(
        need,
        _user(),
        form["amount_minor"],
        form["currency"],
        form["items"],
        form["spent_on"],
        upload.read() if upload is not None else None,
    )
    return need_money(need, _user()), 201


@blp.route("/orgs/<int:org_id>/payment-details", methods=["PUT"])
@token_required
@blp.arguments(PaymentDetailsIn)
@blp.response(200, PaymentDetailsOut)
def put_payment_details(payload, org_id):
    """A group's owners set where it takes money (IBAN, card, https link): each checked."""
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound(_("Not found"))
    return payment_details_dict(set_payment_details(org, _user(), **payload))


@blp.route("/fundraisers", methods=["POST"])
@token_required
@blp.arguments(FundraiserIn)
@blp.response(201, FundraiserOut)
def post_fundraiser(payload):
    """A collective's public fundraiser for a set of priced needs (its page: /f/<slug>)."""
    user = _user()
    item = fundraisers.create(user.organization, user, **payload)
    return fundraisers.public_view(item, str(get_locale() or "en")), 201


@blp.route("/fundraisers/<slug>", methods=["GET"])
@blp.response(200, FundraiserOut)
def get_fundraiser(slug):
    """A fundraiser as anyone reads it (no account): progress and what the money bought."""
    return fundraisers.public_view(fundraisers.by_slug(slug), str(get_locale() or "en"))
