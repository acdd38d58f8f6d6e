"""A pledge, its installments, a need's money and a spending report as a viewer may see them
(the privacy policy decides: sees_pledge, sees_payment_details, sees_spending_photo)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from aidmatch.money.operations import cost_of, pledges_of, takes_receipts
from aidmatch.money.spending import confirmed_pledges, is_late, received_late, spending_of, totals
from aidmatch.orgs.payment import payment_details_of
from aidmatch.privacy import viewer_for

NO_MONEY_HERE = _l("aidmatch never holds, moves or processes money: pay the group directly.")


def installment_to_dict(inst) -> dict:
    return {
        "id": inst.id,
        "number": inst.number,
        "due_on": inst.due_on,
        "amount_expected_minor": inst.amount_expected_minor,
        "amount_received_minor": inst.amount_received_minor,
        "received_on": inst.received_on,
        "late": is_late(inst),
        "flagged_late": inst.late_flagged_at is not None,
        "received_late": received_late(inst),
    }


def payment_details_dict(details) -> dict | None:
    if details is None:
        return None
    return {
        "iban": details.iban,
        "card": details.card,
        "link": details.link,
        "holder": details.holder,
    }


def pledge_to_dict(pledge, user) -> dict:
    """A pledge; the group's payment details only where sees_payment_details allows (else null)."""
    viewer = viewer_for(user)
    details = None
    if viewer.sees_payment_details(pledge):
        details = payment_details_dict(payment_details_of(pledge.need.organization_id))
    return {
        "id": pledge.id,
        "need_id": pledge.need_id,
        "organization": {
            "id": pledge.organization.id,
            "name": pledge.organization.name,
            "verified": pledge.organization.verified,
        },  # fmt: skip
        "amount_minor": pledge.amount_minor,
        "currency": str(pledge.currency),
        "cadence": str(pledge.cadence),
        "months": pledge.months,
        "first_due": pledge.first_due,
        "status": str(pledge.status),
        "takes_receipts": takes_receipts(pledge),
        "installments": [installment_to_dict(i) for i in pledge.installments],
        "payment_details": details,
        "created_at": pledge.created_at,
    }


def spending_to_dict(report, photo_ok: bool) -> dict:
    return {
        "id": report.id,
        "amount_minor": report.amount_minor,
        "currency": str(report.currency),
        "items": report.items,
        "spent_on": report.spent_on,
        "photo_url": url_for("money.receipt_photo", report_id=report.id)
        if photo_ok and report.photo_width
        else None,
    }


def need_money(need, user) -> dict:
    """A need's money as this user (who sees the need) may see it: its cost, totals per
    currency, the pledges it may see, and what the money bought."""
    viewer = viewer_for(user)
    cost = cost_of(need.id)
    pledgers = [p.organization_id for p in confirmed_pledges(need.id)]
    photo_ok = viewer.sees_spending_photo(need.organization_id, pledgers)
    return {
        "cost": {"amount_minor": cost.amount_minor, "currency": str(cost.currency)}
        if cost
        else None,
        "totals": totals([need.id])[need.id],
        "pledges": [pledge_to_dict(p, user) for p in pledges_of(need.id) if viewer.sees_pledge(p)],
        "spending": [spending_to_dict(r, photo_ok) for r in spending_of([need.id])],
        "notice": str(NO_MONEY_HERE),
    }
