"""Money rows for the tests that walk every route (reads never write, the phone layout):
a priced need, the group's payment details, a confirmed monthly pledge, what the money bought
with a receipt photo, and a fundraiser, all through the real verbs."""

from __future__ import annotations

import io

from PIL import Image

from aidmatch.money import fundraisers
from aidmatch.money.operations import decide, pledge, set_cost
from aidmatch.money.spending import report_spending
from aidmatch.orgs.models import OrgRole
from aidmatch.orgs.payment import set_payment_details
from aidmatch.permissions import Role
from tests.factories import make_user


def make_money(need, organizer, donor, coordinator) -> dict[str, list]:
    """The rows, flushed; their route parameters (pledge_id, report_id, slug)."""
    owner = make_user(Role.ORGANIZER, org=need.organization, org_role=OrgRole.OWNER)
    set_payment_details(need.organization, owner, link="https://pay.example.org/jar/1")
    set_cost(need, organizer, 1_200_000, "UAH")
    made = pledge(need, donor, 400_000, "UAH", "monthly", 3)
    decide(made, coordinator, True)
    jpeg = io.BytesIO()
    Image.new("RGB", (1600, 1200)).save(jpeg, "JPEG")
    report = report_spending(
        need, organizer, 350_000, "UAH", "Diesel, 200 l", None, jpeg.getvalue()
    )
    drive = fundraisers.create(
        donor.organization, donor, "Winterhilfe Leipzig-Grünau", "", [need.id]
    )
    return {"pledge_id": [made.id], "report_id": [report.id], "slug": [drive.slug]}
