"""The pages of money: a need's money page (/needs/<id>/money: cost, totals, pledges, payment
details as the policy allows, the forms of each side), a receipt photo, a group's payment
details, and the fundraisers (/fundraisers/new; the public /f/<slug>, no account needed).
A section of the need's page links here (postings/pages.page_section)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from aidmatch.extensions import db
from aidmatch.money import fundraisers, operations, spending
from aidmatch.money.amounts import as_major, money, parse_day, parse_major
from aidmatch.money.forms import (
    CostForm,
    FundraiserForm,
    PaymentDetailsForm,
    PledgeForm,
    ReceivedForm,
    SpendingForm,
)
from aidmatch.money.models import PledgeStatus
from aidmatch.money.serialize import NO_MONEY_HERE, need_money
from aidmatch.needs.kind import NEED
from aidmatch.orgs.models import Organization, OrgKind
from aidmatch.orgs.payment import payment_details_of, set_payment_details
from aidmatch.permissions import (
    can_act_for_group,
    can_pledge_money,
    can_review_pledge,
    can_run_fundraiser,
    can_set_payment_details,
    require_login,
)
from aidmatch.postings.pages import page_section
from aidmatch.postings.queries import find_visible
from aidmatch.privacy import Viewer
from aidmatch.refusals import Invalid, NotFound, Refusal
from aidmatch.web.errors import put_on_form, refusal_status

bp = Blueprint("money", __name__)

STATUS_LABELS = {
    PledgeStatus.PENDING: _l("waiting for a coordinator"),
    PledgeStatus.CONFIRMED: _l("confirmed"),
    PledgeStatus.REJECTED: _l("rejected"),
    PledgeStatus.CANCELLED: _l("stopped"),
}


def _user():
    return current_user._get_current_object()


def _lang() -> str:
    return str(get_locale() or "en")


@page_section("need")
def _money_section(need, viewer, may_edit: bool) -> dict:
    """The need's page: its cost and totals, and a link to its money page."""
    cost = operations.cost_of(need.id)
    if cost is None and not may_edit:
        return {}
    return {
        "money_cost": cost,
        "money_amount": money,
        "money_url": url_for("money.need_page", need_id=need.id),
    }


def render_need(need, status: int = 200, **forms):
    """The need's money page, with these forms (kept as typed after a refusal)."""
    user = _user()
    data = need_money(need, user)
    cost = data["cost"]
    defaults = {"currency": cost["currency"]} if cost else {}
    forms.setdefault("cost_form", CostForm(formdata=None, amount=as_major(cost["amount_minor"]) if cost else "",
                                           **defaults))  # fmt: skip
    forms.setdefault("pledge_form", PledgeForm(formdata=None, **defaults))
    forms.setdefault("spending_form", SpendingForm(formdata=None, **defaults))
    forms.setdefault("received_forms", {})
    html = render_template(
        "money/need.html",
        need=need,
        data=data,
        money=money,
        notice=NO_MONEY_HERE,
        status_labels=STATUS_LABELS,
        may_group=can_act_for_group(user, need),
        may_set_payment=can_set_payment_details(user, need.organization),
        may_pledge=can_pledge_money(user) and cost is not None and Viewer.takes_money(need),
        reviewable={p.id for p in operations.pledges_of(need.id) if can_review_pledge(user, p)},
        own_org=user.organization_id,
        received_form=ReceivedForm(formdata=None),
        **forms,
    )
    return html, status


@bp.get("/needs/<int:need_id>/money")
@require_login
def need_page(need_id: int):
    """The need's money: cost, totals, pledges, what it bought."""
    return render_need(find_visible(NEED, _user(), need_id))


def _handle(need, form_name: str, form, action):
    try:
        if not form.validate_on_submit():
            raise Invalid(_("The form had expired. Please send it again."))
        action()
    except Refusal as err:
        db.session.rollback()
        put_on_form(form, err, {"amount_minor": "amount"})
        return render_need(need, refusal_status(err), **{form_name: form})
    return None


@bp.post("/needs/<int:need_id>/money/cost")
@require_login
def set_cost(need_id: int):
    need = find_visible(NEED, _user(), need_id)
    form = CostForm()
    failed = _handle(need, "cost_form", form, lambda: operations.set_cost(
        need, _user(), parse_major(form.amount.data), form.currency.data))  # fmt: skip
    if failed:
        return failed
    flash(_("The need's cost is saved."), "ok")
    return redirect(url_for("money.need_page", need_id=need.id))


@bp.post("/needs/<int:need_id>/money/pledges")
@require_login
def pledge(need_id: int):
    need = find_visible(NEED, _user(), need_id)
    form = PledgeForm()

    def act():
        months = form.months.data.strip() if form.months.data else "1"
        if not months.isdigit():
            raise Invalid(_("A monthly pledge runs 1 to %(max)d months.", max=24), "months")
        first_due = parse_day(form.first_due.data, "first_due") if form.first_due.data else None
        operations.pledge(need, _user(), parse_major(form.amount.data), form.currency.data,
                          form.cadence.data, int(months), first_due, form.note.data or "")  # fmt: skip

    failed = _handle(need, "pledge_form", form, act)
    if failed:
        return failed
    flash(_("Thank you: a coordinator confirms your pledge; then you see how to pay."), "ok")
    return redirect(url_for("money.need_page", need_id=need.id))


@bp.post("/money-pledges/<int:pledge_id>/<any(confirm, reject, cancel):action>")
@require_login
def act(pledge_id: int, action: str):
    item = operations.get_pledge(_user(), pledge_id)
    reason = request.form.get("reason", "")
    try:
        if action == "cancel":
            operations.cancel(item, _user(), reason)
        else:
            operations.decide(item, _user(), action == "confirm", reason)
    except Refusal as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("money.need_page", need_id=item.need_id)), 303
    flash(_("Done."), "ok")
    return redirect(url_for("money.need_page", need_id=item.need_id))


@bp.post("/money-installments/<int:installment_id>/received")
@require_login
def received(installment_id: int):
    inst = operations.get_installment(_user(), installment_id)
    need = inst.pledge.need
    form = ReceivedForm()

    def act():
        day = parse_day(form.received_on.data, "received_on") if form.received_on.data else None
        operations.confirm_received(inst, _user(), parse_major(form.amount.data), day)

    try:
        if not form.validate_on_submit():
            raise Invalid(_("The form had expired. Please send it again."))
        act()
    except Refusal as err:
        db.session.rollback()
        put_on_form(form, err, {"amount_minor": "amount"})
        return render_need(need, refusal_status(err), received_forms={inst.id: form})
    flash(_("Thank you: the money received is recorded."), "ok")
    return redirect(url_for("money.need_page", need_id=need.id))


@bp.post("/needs/<int:need_id>/money/spending")
@require_login
def spent(need_id: int):
    need = find_visible(NEED, _user(), need_id)
    form = SpendingForm()

    def act():
        day = parse_day(form.spent_on.data, "spent_on") if form.spent_on.data else None
        upload = form.photo.data
        raw = upload.read() if upload else None
        spending.report_spending(need, _user(), parse_major(form.amount.data), form.currency.data,
                                 form.items.data or "", day, raw)  # fmt: skip

    failed = _handle(need, "spending_form", form, act)
    if failed:
        return failed
    flash(_("Thank you: what the money bought is recorded."), "ok")
    return redirect(url_for("money.need_page", need_id=need.id))


@bp.get("/money/receipts/<int:report_id>")
@require_login
def receipt_photo(report_id: int):
    """A receipt photo (re-encoded, no metadata): the group, its confirmed pledgers, staff."""
    report = spending.visible_receipt(_user(), report_id)
    response = Response(report.photo, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/orgs/<int:org_id>/payment-details", methods=["GET", "POST"])
@require_login
def payment_details(org_id: int):
    """A frontline group's owners say where it takes money (seen by confirmed pledgers only;
    permissions.can_set_payment_details: not staff); for anyone else there is no such page."""
    org = db.session.get(Organization, org_id)
    if (
        org is None
        or org.kind != OrgKind.FRONTLINE_GROUP
        or not can_set_payment_details(_user(), org)
    ):
        raise NotFound(_("Not found"))
    details = payment_details_of(org.id)
    form = PaymentDetailsForm(obj=details) if request.method == "GET" else PaymentDetailsForm()
    status = 200
    if request.method == "POST":
        try:
            if not form.validate_on_submit():
                raise Invalid(_("The form had expired. Please send it again."))
            set_payment_details(org, _user(), form.iban.data, form.card.data, form.link.data,
                                form.holder.data)  # fmt: skip
        except Refusal as err:
            db.session.rollback()
            put_on_form(form, err)
            status = refusal_status(err)
        else:
            flash(_("The payment details are saved."), "ok")
            return redirect(url_for("money.payment_details", org_id=org.id))
    return render_template(
        "money/payment_details.html", org=org, form=form, notice=NO_MONEY_HERE
    ), status


@bp.route("/fundraisers/new", methods=["GET", "POST"])
@require_login
def new_fundraiser():
    """A collective starts a fundraiser for some of the priced needs."""
    user = _user()
    if not can_run_fundraiser(user, user.organization):
        raise NotFound(_("Not found"))
    form = FundraiserForm()
    status = 200
    if request.method == "POST":
        try:
            if not form.validate_on_submit():
                raise Invalid(_("The form had expired. Please send it again."))
            ids = [p.strip() for p in (form.need_ids.data or "").split(",") if p.strip()]
            if not all(p.isdigit() for p in ids):
                raise Invalid(_("Give the needs' numbers, separated by commas."), "need_ids")
            item = fundraisers.create(user.organization, user, form.title.data, form.description.data,
                                      [int(p) for p in ids])  # fmt: skip
        except Refusal as err:
            db.session.rollback()
            put_on_form(form, err)
            status = refusal_status(err)
        else:
            return redirect(url_for("money.fundraiser", slug=item.slug))
    return render_template("money/new_fundraiser.html", form=form), status


@bp.get("/f/<slug>")
def fundraiser(slug: str):
    """A fundraiser's public page: no account needed."""
    view = fundraisers.public_view(fundraisers.by_slug(slug), _lang())
    return render_template("money/fundraiser.html", f=view, money=money, notice=NO_MONEY_HERE)
