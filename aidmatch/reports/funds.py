"""The money part of a report (report.money_section): per currency, what a donor collective (or
the whole network) pledged, what the groups confirmed they received, what the money bought and
the months that fell short, with what a report's reader may know of it: the oblast (never a
settlement), a group's name only where privacy/names.may_name allows, no need's title, and
nothing confirmed or reported after the publication cutoff (a report is printed and handed on).

The sums are money's own (money/spending.totals, narrowed to the period, the collective and
the cutoff), and a late month is spending.is_late's: this module only groups them for print.
Amounts stay whole minor units until amounts.money writes them in the report's language."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from aidmatch.extensions import db
from aidmatch.money.amounts import add_months, money
from aidmatch.money.models import Installment, MoneyPledge, PledgeStatus
from aidmatch.money.spending import is_late, received_late, spending_of, took_money, totals
from aidmatch.needs.models import Need
from aidmatch.orgs.models import Organization
from aidmatch.places.models import Place
from aidmatch.privacy.names import may_name
from aidmatch.reports.period import Period
from aidmatch.transparency.queries import monday, oblast_name
from aidmatch.web.i18n import local_date, local_number

# Why less money arrived than was pledged for the period's months, in the order a report
# lists them.
MONEY_CAUSES = {
    "missed": _l("Not confirmed received in time (still missing)"),
    "late": _l("Confirmed received, but late"),
    "less": _l("Less arrived than was pledged"),
    "stopped": _l("Stopped by the collective before it was sent"),
}


def _needs(org: Organization | None) -> dict[int, dict]:
    """The needs that took money from org's pledges (anyone's, for None): who and where."""
    query = (
        select(
            Need.id,
            Need.organization_id,
            Organization.name,
            Organization.public_name,
            Need.sensitive,
            Place.oblast,
        )  # fmt: skip
        .join(MoneyPledge, MoneyPledge.need_id == Need.id)
        .join(Place, Place.id == Need.place_id)
        .join(Organization, Organization.id == Need.organization_id)
        .where(took_money())
        .distinct()
    )
    if org is not None:
        query = query.where(MoneyPledge.organization_id == org.id)
    needs = {}
    for need_id, group, name, public, sensitive, oblast in db.session.execute(query):
        needs[need_id] = {
            "group": group,
            "name": name if may_name(public, sensitive, oblast) else None,
            "sensitive": sensitive,
            "oblast": oblast,
        }
    return needs


def _months_due(org: Organization | None, ids, period: Period) -> list[Installment]:
    """The months of those pledges due in the period."""
    query = (
        select(Installment)
        .join(MoneyPledge, MoneyPledge.id == Installment.pledge_id)
        .where(
            MoneyPledge.need_id.in_(list(ids)),
            took_money(),
            Installment.due_on.between(period.start, period.end),
        )
        .order_by(Installment.id)
        .options(contains_eager(Installment.pledge))
    )
    if org is not None:
        query = query.where(MoneyPledge.organization_id == org.id)
    return list(db.session.scalars(query))


def _cause(inst: Installment, cutoff: datetime, today: date) -> tuple[str, int] | None:
    """Why a month fell short and by how much (minor units), or None."""
    if inst.received_at is None or inst.received_at >= cutoff:
        if inst.pledge.status == PledgeStatus.CANCELLED and inst.received_at is None:
            return "stopped", inst.amount_expected_minor
        if is_late(inst, today):
            return "missed", inst.amount_expected_minor
        return None
    if received_late(inst):
        return "late", inst.amount_received_minor or 0
    short = inst.amount_expected_minor - (inst.amount_received_minor or 0)
    return ("less", short) if short > 0 else None


def money_section(
    org: Organization | None, period: Period, cutoff: datetime, lang: str, today: date
) -> list[dict]:
    """One dict per currency (UAH, EUR, ...: amounts in different currencies do not add up):
    pledged (the months of confirmed pledges due in the period), received (confirmed received
    in the period, before the cutoff), spent (purchases in the period reported before the
    cutoff) and each as words; the oblasts with their groups; the groups that may be named;
    what the money bought; the months that fell short, by cause."""
    needs = _needs(org)
    if not needs:
        return []
    until = min(period.until, cutoff)
    sums = totals(
        needs,
        pledged_by=org.id if org is not None else None,
        statuses=(PledgeStatus.CONFIRMED,),
        due_between=(period.start, period.end),
        received_between=(period.since, until),
        spent_between=(period.start, period.end),
        reported_before=cutoff,
    )
    parts: dict[str, dict] = {}

    def part(currency: str) -> dict:
        return parts.setdefault(
            currency,
            {"currency": currency, "pledged": 0, "received": 0, "spent": 0, "groups": set(),
             "named": set(), "oblasts": {}, "bought": [], "shortfalls": {}},
        )  # fmt: skip

    for need_id, by_currency in sums.items():
        need = needs[need_id]
        for currency, figures in by_currency.items():
            entry = part(currency)
            for key in ("pledged", "received", "spent"):
                entry[key] += figures[key]
            if not (figures["received"] or figures["spent"]):
                continue
            place = entry["oblasts"].setdefault(
                need["oblast"], {"received": 0, "spent": 0, "groups": set()}
            )
            place["received"] += figures["received"]
            place["spent"] += figures["spent"]
            place["groups"].add(need["group"])
            entry["groups"].add(need["group"])
            if need["name"]:
                entry["named"].add(need["name"])
    for report in spending_of(needs, before=cutoff, spent_between=(period.start, period.end)):
        need = needs[report.need_id]
        part(str(report.currency))["bought"].append(
            {
                "week": local_date(monday(report.spent_on)),
                "oblast": oblast_name(need["oblast"], lang),
                "group": need["name"],
                "what": None if need["sensitive"] else report.items,
                "amount": money(report.amount_minor, report.currency),
            }
        )
    for inst in _months_due(org, needs, period):
        found = _cause(inst, cutoff, today)
        if found is not None:
            entry = part(str(inst.pledge.currency))["shortfalls"]
            row = entry.setdefault(found[0], [0, 0])
            row[0], row[1] = row[0] + 1, row[1] + found[1]
    by_month = _per_month(org, needs, period, cutoff)
    return [_words(parts[c], lang, by_month.get(c, {})) for c in sorted(parts)]


def _per_month(org, needs, period: Period, cutoff: datetime) -> dict[str, dict[str, list]]:
    """{currency: {"pledged": [...], "received": [...], "spent": [...]}}, one value per month
    of the period (money's totals over each month's part of it, before the cutoff)."""
    found: dict[str, dict[str, list]] = {}
    months = period.months()
    for i, month in enumerate(months):
        year, number = int(month[:4]), int(month[5:7])
        first = max(date(year, number, 1), period.start)
        last = min(add_months(date(year, number, 1), 1) - timedelta(days=1), period.end)
        since = datetime.combine(first, time.min, tzinfo=UTC)
        until = min(datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC), cutoff)
        sums = totals(
            needs,
            pledged_by=org.id if org is not None else None,
            statuses=(PledgeStatus.CONFIRMED,),
            due_between=(first, last),
            received_between=(since, max(since, until)),
            spent_between=(first, last),
            reported_before=cutoff,
        )
        for by_currency in sums.values():
            for currency, figures in by_currency.items():
                entry = found.setdefault(
                    currency, {key: [0] * len(months) for key in ("pledged", "received", "spent")}
                )
                for key, values in entry.items():
                    values[i] += figures[key]
    return found


def _words(entry: dict, lang: str, by_month: dict[str, list]) -> dict:
    """The currency's part with its amounts and places written for the report's language."""
    currency = entry["currency"]
    oblasts = sorted(
        (
            {
                "name": oblast_name(oblast, lang),
                "groups": local_number(len(place["groups"])),
                "received": money(place["received"], currency),
                "spent": money(place["spent"], currency),
            }
            for oblast, place in entry["oblasts"].items()
        ),
        key=lambda row: row["name"],
    )
    shortfalls = [
        {"cause": cause, "words": str(words), "count": local_number(entry["shortfalls"][cause][0]),
         "amount": money(entry["shortfalls"][cause][1], currency)}
        for cause, words in MONEY_CAUSES.items()
        if cause in entry["shortfalls"]
    ]  # fmt: skip
    return {
        "currency": currency,
        "minor": {k: entry[k] for k in ("pledged", "received", "spent")},
        "pledged": money(entry["pledged"], currency),
        "received": money(entry["received"], currency),
        "spent": money(entry["spent"], currency),
        "groups": local_number(len(entry["groups"])),
        "named_groups": sorted(entry["named"]),
        "oblasts": oblasts,
        "bought": entry["bought"],
        "shortfalls": shortfalls,
        "by_month": by_month,
    }
