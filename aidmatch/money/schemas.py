"""The API's shapes of money: what the client writes and what it gets back (the OpenAPI
document is made of these)."""

from __future__ import annotations

import marshmallow as ma

from aidmatch.money.models import Cadence, Currency
from aidmatch.web.schemas import Id, OrgRef, Text

CURRENCIES = [c.value for c in Currency]
Int, S, D = ma.fields.Integer, ma.fields.String, ma.fields.Date


class Amount(ma.fields.Integer):
    """Whole minor units (cents, kopiykas, groszy): never a float."""

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)
        kwargs.setdefault("metadata", {"description": "whole minor units (cents, kopiykas)"})
        super().__init__(**kwargs)


class CostIn(ma.Schema):
    amount_minor = Amount(required=True)
    currency = S(required=True, metadata={"enum": CURRENCIES})


class PledgeIn(ma.Schema):
    amount_minor = Amount(required=True)
    currency = S(required=True, metadata={"enum": CURRENCIES})
    cadence = S(load_default="once", metadata={"enum": [c.value for c in Cadence]})
    months = Int(load_default=1, strict=True, metadata={"description": "1 to 24 (monthly)"})
    first_due = D(load_default=None, metadata={"description": "today or later; default today"})
    note = Text(load_default="")


class MoneyReasonIn(ma.Schema):
    reason = Text(load_default="", metadata={"description": "required to reject"})


class ReceivedIn(ma.Schema):
    amount_minor = Amount(required=True)
    received_on = D(load_default=None, metadata={"description": "not in the future"})


class PaymentDetailsIn(ma.Schema):
    iban = Text(load_default="", metadata={"description": "checked by its mod-97 digits"})
    card = Text(load_default="", metadata={"description": "12-19 digits, Luhn-checked"})
    link = Text(load_default="", metadata={"description": "https:// only"})
    holder = Text(load_default="")


class SpendingFormIn(ma.Schema):
    """A multipart form: what the money bought."""

    amount_minor = Int(required=True, metadata={"description": "whole minor units"})
    currency = S(required=True, metadata={"enum": CURRENCIES})
    items = Text(required=True, metadata={"description": "what it bought, in words"})
    spent_on = D(load_default=None, metadata={"description": "not in the future; default today"})


class ReceiptFileIn(ma.Schema):
    photo = ma.fields.Raw(
        load_default=None,
        metadata={"type": "string", "format": "binary", "description": "a receipt, at most 8 MB"},
    )


class FundraiserIn(ma.Schema):
    title = Text(required=True)
    description = Text(load_default="")
    need_ids = ma.fields.List(Id(), required=True)
    slug = Text(load_default="")


class PaymentDetailsOut(ma.Schema):
    iban = S(required=True)
    card = S(required=True)
    link = S(required=True)
    holder = S(required=True)


class InstallmentOut(ma.Schema):
    id = Int(required=True)
    number = Int(required=True)
    due_on = D(required=True)
    amount_expected_minor = Int(required=True)
    amount_received_minor = Int(required=True, allow_none=True)
    received_on = D(required=True, allow_none=True)
    late = ma.fields.Boolean(required=True, metadata={"description": "not received in time"})
    flagged_late = ma.fields.Boolean(required=True)
    received_late = ma.fields.Boolean(required=True)


class PledgeOut(ma.Schema):
    id = Int(required=True)
    need_id = Int(required=True)
    organization = ma.fields.Nested(OrgRef, required=True)
    amount_minor = Int(required=True)
    currency = S(required=True)
    cadence = S(required=True)
    months = Int(required=True)
    first_due = D(required=True)
    status = S(required=True, metadata={"enum": ["pending", "confirmed", "rejected", "cancelled"]})
    takes_receipts = ma.fields.Boolean(
        required=True, metadata={"description": "the group may confirm money received on it"}
    )
    installments = ma.fields.List(ma.fields.Nested(InstallmentOut), required=True)
    payment_details = ma.fields.Nested(
        PaymentDetailsOut,
        required=True,
        allow_none=True,
        metadata={"description": "null until a coordinator confirmed the pledge"},
    )
    created_at = ma.fields.DateTime(required=True)


class CostOut(ma.Schema):
    amount_minor = Int(required=True)
    currency = S(required=True)


class FiguresOut(ma.Schema):
    pledged = Int(required=True)
    received = Int(required=True)
    spent = Int(required=True)


class SpendingOut(ma.Schema):
    id = Int(required=True)
    amount_minor = Int(required=True)
    currency = S(required=True)
    items = S(required=True)
    spent_on = D(required=True)
    photo_url = S(required=True, allow_none=True)


class NeedMoneyOut(ma.Schema):
    cost = ma.fields.Nested(CostOut, required=True, allow_none=True)
    totals = ma.fields.Dict(keys=S(), values=ma.fields.Nested(FiguresOut), required=True)
    pledges = ma.fields.List(ma.fields.Nested(PledgeOut), required=True)
    spending = ma.fields.List(ma.fields.Nested(SpendingOut), required=True)
    notice = S(required=True)


class PublicNeedOut(ma.Schema):
    category = S(required=True)
    category_name = S(required=True)
    oblast_name = S(required=True)
    group = S(required=True, allow_none=True, metadata={"description": "only where allowed"})
    status = S(required=True)


class BoughtOut(PublicNeedOut):
    week = D(required=True, metadata={"description": "the Monday of its week"})
    items = S(required=True)
    amount_minor = Int(required=True)
    currency = S(required=True)


class ProgressOut(ma.Schema):
    goal = Int(required=True)
    pledged = Int(required=True)
    received = Int(required=True)


class FundraiserOut(ma.Schema):
    slug = S(required=True)
    title = S(required=True)
    description = S(required=True)
    collective = S(required=True)
    needs = ma.fields.List(ma.fields.Nested(PublicNeedOut), required=True)
    progress = ma.fields.Dict(keys=S(), values=ma.fields.Nested(ProgressOut), required=True)
    bought = ma.fields.List(ma.fields.Nested(BoughtOut), required=True)
