"""The demo's money (aidmatch/money), through its verbs: three needs of verified groups priced
by their groups (goods best bought near the front), a donor collective's monthly pledge to the
first, confirmed by the coordinator, its first month received by the group and what it bought
reported (no photo), and the collective's fundraiser for the three, public at /f/<slug>.

Everything is dated today (the verbs allow no past), so the fundraiser's bars show what was
pledged and received at once; what the money bought appears on its page once the publication
delay has passed, as on the transparency page. Flushes, never commits.
"""

from __future__ import annotations

from sqlalchemy import select

from aidmatch.auth.models import User
from aidmatch.categories.models import Category
from aidmatch.extensions import db
from aidmatch.money import fundraisers
from aidmatch.money.models import Fundraiser, MoneyPledge
from aidmatch.money.operations import confirm_received, decide, pledge, set_cost
from aidmatch.money.spending import report_spending
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.orgs.models import Organization, org_name_key

COLLECTIVE = "Berlin Ukraine Support e.V."
CURRENCY = "EUR"
MONTHS = 3
# What one unit costs near the front, in euros (rounded shop prices), by category.
PRICES = {
    "generators": 900,
    "power-stations": 1100,
    "solar-panels": 250,
    "starlink": 450,
    "stoves": 350,
    "heaters": 120,
    "water-filters": 60,
    "chainsaws": 500,
}
PRICED_NEEDS = 3
FUNDRAISER = {
    "slug": "winter-power",
    "title": "Winter power for front-line villages",
    "description": (
        "A solidarity evening in Berlin-Neukölln for three groups near the front: what keeps "
        "their aid points powered and warm, bought in Ukraine, where it is in stock and can be "
        "repaired."
    ),
}


def fundraiser_exists() -> bool:
    """Whether the demo's fundraiser was made already (seed_field's mark of having run)."""
    slug = FUNDRAISER["slug"]
    return db.session.scalar(select(Fundraiser.id).where(Fundraiser.slug == slug)) is not None


def demo_fundraiser() -> Fundraiser | None:
    """The demo's fundraiser, if seeded (its link is printed with the logins)."""
    return db.session.scalar(select(Fundraiser).where(Fundraiser.slug == FUNDRAISER["slug"]))


def _priced_needs() -> list[Need]:
    """The first open, non-sensitive needs (by id) of distinct verified groups, in a category
    with a price, that no match holds anything of."""
    rows = db.session.execute(
        select(Need, Category.slug)
        .join(Organization, Organization.id == Need.organization_id)
        .join(Category, Category.id == Need.category_id)
        .where(
            Need.status_is(NeedStatus.OPEN),
            Need.sensitive.is_(False),
            Need.pledged == 0,
            Organization.verified_at.is_not(None),
            Category.slug.in_(sorted(PRICES)),
        )
        .order_by(Need.id)
    ).all()
    chosen: dict[int, Need] = {}
    for need, _slug in rows:
        chosen.setdefault(need.organization_id, need)
        if len(chosen) == PRICED_NEEDS:
            break
    return list(chosen.values())


def seed_money(coordinator: User) -> tuple[MoneyPledge, Fundraiser]:
    """Price the needs, pledge monthly to the first, confirm, receive a month, report what it
    bought, and start the fundraiser; the pledge and the fundraiser."""
    collective = db.session.scalar(
        select(Organization).where(Organization.name_key == org_name_key(COLLECTIVE))
    )
    donor = collective.members[0]
    needs = _priced_needs()
    costs = {}
    for need in needs:
        group = need.organization.members[0]
        amount = need.quantity * PRICES[need.category.slug] * 100  # in cents
        costs[need.id] = set_cost(need, group, amount, CURRENCY).amount_minor
    first = needs[0]
    monthly = -(-costs[first.id] // MONTHS // 100) * 100  # a whole euro amount, rounded up
    item = pledge(
        first,
        donor,
        monthly,
        CURRENCY,
        cadence="monthly",
        months=MONTHS,
        note="From the monthly standing orders of our members.",
    )
    decide(item, coordinator, confirm=True)
    group = first.organization.members[0]
    installment = item.installments[0]
    confirm_received(installment, group, installment.amount_expected_minor)
    report_spending(
        first,
        group,
        installment.amount_expected_minor,
        CURRENCY,
        f"{first.title}: bought with the first month's money in a shop near us; the receipt "
        "is at our aid point.",
    )
    fundraiser = fundraisers.create(
        collective,
        donor,
        FUNDRAISER["title"],
        FUNDRAISER["description"],
        need_ids=[n.id for n in needs],
        slug=FUNDRAISER["slug"],
    )
    return item, fundraiser
