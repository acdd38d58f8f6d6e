"""The public transparency page, its ledger, the CSV download and the summary API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from aidmatch.extensions import db
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.transparency.queries import publication_cutoff
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_place


@pytest.fixture(autouse=True)
def english(client):
    """Anonymous visitors' pages in English (a request's own header still wins)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def deliver(need, received: int, when: datetime, donor_org=None, quantity: int | None = None):
    """A delivered match on need, written directly (as the lifecycle would leave it)."""
    donor_org = donor_org or make_org(kind=OrgKind.DONOR_COLLECTIVE)
    quantity = quantity or received
    match = Match(
        need=need,
        organization=donor_org,
        quantity=quantity,
        quantity_received=received,
        source=MatchSource.CLAIM,
        status=MatchStatus.DELIVERED,
        delivered_at=when,
        discrepancy=received < quantity,
    )
    db.session.add(match)
    need.pledged += received
    need.delivered += received
    db.session.flush()
    return match


def posted(need, when: datetime):
    need.created_at = when
    db.session.flush()
    return need


def world():
    """Three deliveries for two groups in two oblasts, one of them sensitive and opted in; the
    group that opted in is in an oblast away from the front (FRONT_OBLASTS), so it may be named."""
    named = make_org("Named Rescue Group", public_name=True)
    hidden = make_org("Hidden Frontline Unit", public_name=False)
    dnipro = make_place("Transparentne", lat=48.5, lon=35.0, oblast="Dnipropetrovsk Oblast")
    donetsk = make_place("Vidkryte", lat=48.5, lon=37.9, oblast="Donetsk Oblast")
    t0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    a = posted(make_need(named, place=dnipro, quantity=40), t0)
    b = posted(make_need(hidden, place=donetsk, category="generators", quantity=3), t0)
    c = posted(make_need(named, place=donetsk, category="drinking-water", quantity=500), t0)
    c.sensitive = True
    deliver(a, 30, t0 + timedelta(days=2))  # 2 days
    deliver(b, 2, t0 + timedelta(days=40), quantity=3)  # 40 days, April
    deliver(c, 500, t0 + timedelta(days=10))  # 10 days, sensitive
    # Not delivered: never counted.
    pending = make_need(hidden, place=dnipro)
    db.session.add(
        Match(
            need=pending,
            organization=make_org(kind=OrgKind.DONOR_COLLECTIVE),
            quantity=5,
            source=MatchSource.CLAIM,
            status=MatchStatus.CONFIRMED,
        )
    )
    pending.pledged = 5
    db.session.commit()


def test_empty_page_api_and_csv(app, client):
    page = client.get("/transparency")
    assert page.status_code == 200
    assert "Nothing has been delivered yet." in page.get_data(as_text=True)
    summary = client.get("/api/v1/transparency/summary").get_json()
    assert summary["totals"]["deliveries"] == 0
    assert summary["groups_served"] == 0 and summary["median_days_to_delivery"] is None
    assert summary["by_category"] == [] and summary["by_month"] == []
    body = client.get("/transparency/ledger.csv").get_data(as_text=True)
    assert body.strip().splitlines() == [
        "date,category,category_name,parent_category,oblast,quantity,unit,group"
    ]
    assert client.get("/transparency/ledger").status_code == 200


def test_summary_counts_deliveries_by_category_oblast_and_month(app, client):
    world()
    response = client.get("/api/v1/transparency/summary", headers={"Accept-Language": "en"})
    assert response.status_code == 200  # no token
    data = response.get_json()
    assert data["totals"] == {
        "deliveries": 3,
        "needs_served": 3,
        "groups_served": 2,
        "quantity_by_unit": {"l": 500, "pcs": 32},
    }
    assert data["groups_served"] == 2
    assert data["median_days_to_delivery"] == 10.0
    by_cat = {row["category"]: row for row in data["by_category"]}
    assert by_cat["tourniquets"] == {
        "category": "tourniquets",
        "name": "Tourniquets",
        "parent": "tactical-medicine",
        "parent_name": "Tactical medicine",
        "unit": "pcs",
        "deliveries": 1,
        "quantity": 30,
    }
    assert by_cat["generators"]["quantity"] == 2 and by_cat["generators"]["parent"] == "energy"
    assert by_cat["drinking-water"]["unit"] == "l"
    by_oblast = {row["oblast"]: row for row in data["by_oblast"]}
    assert by_oblast["Donetsk Oblast"]["deliveries"] == 2
    assert by_oblast["Donetsk Oblast"]["groups_served"] == 2
    assert by_oblast["Donetsk Oblast"]["quantity_by_unit"] == {"l": 500, "pcs": 2}
    assert by_oblast["Dnipropetrovsk Oblast"]["quantity_by_unit"] == {"pcs": 30}
    assert data["by_month"] == [
        {"month": "2025-03", "deliveries": 2, "quantity_by_unit": {"l": 500, "pcs": 30}},
        {"month": "2025-04", "deliveries": 1, "quantity_by_unit": {"pcs": 2}},
    ]


def test_names_in_the_viewers_language(app, client):
    world()
    data = client.get("/api/v1/transparency/summary", headers={"Accept-Language": "uk"}).get_json()
    names = {row["category"]: row["name"] for row in data["by_category"]}
    assert names["tourniquets"] == "Турнікети"
    oblasts = {row["name"] for row in data["by_oblast"]}
    assert oblasts == {"Дніпропетровська область", "Донецька область"}


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(app, client):
    org = make_org()
    t0 = datetime(2025, 5, 1, tzinfo=UTC)
    for days in (1, 3, 7, 100):
        need = posted(make_need(org, quantity=10), t0)
        deliver(need, 10, t0 + timedelta(days=days))
    db.session.commit()
    data = client.get("/api/v1/transparency/summary").get_json()
    assert data["median_days_to_delivery"] == 5.0


def test_page_shows_charts_and_tables_without_unnamed_groups(app, client):
    world()
    html = client.get("/transparency", headers={"Accept-Language": "en"}).get_data(as_text=True)
    # three bar charts, and a column chart per unit of the quantities per month (pcs, l)
    assert html.count("<svg") == 5 and "<title id=" in html and "<desc id=" in html
    assert "Deliveries by oblast" in html and "Donetsk Oblast: 2 deliveries" in html
    assert "2025-04" in html and "Tactical medicine › Tourniquets" in html
    assert "Named Rescue Group" in html  # opted in
    assert "Hidden Frontline Unit" not in html
    assert "Transparentne" not in html and "Vidkryte" not in html  # no place below oblast
    assert "10 days" in html
    assert "<script" not in html


def test_ledger_and_csv_name_only_groups_that_opted_in(app, client):
    world()
    html = client.get("/transparency/ledger").get_data(as_text=True)
    assert "3 deliveries" in html
    assert html.count("Named Rescue Group") == 1  # its sensitive delivery stays unnamed
    assert "Hidden Frontline Unit" not in html

    response = client.get("/transparency/ledger.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    # Dated by the Monday of their week: Thursday 10 April, Tuesday 11 March, Monday 3 March.
    assert [r["date"] for r in rows] == ["2025-04-07", "2025-03-10", "2025-03-03"]
    assert [r["group"] for r in rows] == ["", "", "Named Rescue Group"]
    assert rows[0]["category"] == "generators" and rows[0]["quantity"] == "2"
    assert rows[1]["unit"] == "l" and rows[1]["oblast"] == "Donetsk Oblast"
    assert not any("Transparentne" in v or "Vidkryte" in v for r in rows for v in r.values())


def test_csv_neutralises_formulas(app, client):
    org = make_org("=HYPERLINK(1)", public_name=True)
    need = make_need(org, place=make_place("Formulne", oblast="Poltava Oblast"), quantity=5)
    deliver(need, 5, datetime(2025, 1, 2, tzinfo=UTC))
    db.session.commit()
    body = client.get("/transparency/ledger.csv").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in body


def test_ledger_is_paginated(app, client):
    org = make_org()
    need = make_need(org, quantity=1000)
    t0 = datetime(2025, 6, 1, tzinfo=UTC)
    for n in range(55):
        deliver(need, 1, t0 + timedelta(hours=n))
    db.session.commit()
    first = client.get("/transparency/ledger").get_data(as_text=True)
    assert "Page 1 of 2" in first and "page=2" in first
    second = client.get("/transparency/ledger?page=2").get_data(as_text=True)
    assert second.count("<tr><td>") == 5
    assert client.get("/transparency/ledger?page=x").status_code == 200


def test_logged_in_users_see_the_same_page(app, client, login_as):
    world()
    login_as(make_user(Role.DONOR, language="en"))
    html = client.get("/transparency").get_data(as_text=True)
    assert "Hidden Frontline Unit" not in html and "Named Rescue Group" in html


def test_summary_is_in_the_openapi_document_without_security(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/transparency/summary"]["get"]
    assert operation["security"] == []


# Timing is location too (DESIGN, Location privacy): a delay, weeks instead of days, and no
# names of groups near the front.


def ledger_csv_rows(client) -> list[dict]:
    body = client.get("/transparency/ledger.csv").get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(body)))


def test_per_month_charts_of_quantities_under_the_delay(app, client):
    """A column chart per unit: what was received each month (by the delivery's week), every
    month from the first to the last drawn; a delivery not yet published is in none."""
    world()
    org = make_org("Fresh Chart Group", public_name=True)
    fresh = make_need(org, place=make_place("Svizhe", oblast="Poltava Oblast"), quantity=900)
    deliver(fresh, 900, datetime.now(UTC))  # within the delay: not on the page yet
    db.session.commit()
    html = client.get("/transparency").get_data(as_text=True)
    assert "Received per month, in pcs" in html and "Received per month, in l" in html
    assert "March 2025: Received 30; April 2025: Received 2" in html  # 2 of 3 generators
    assert "March 2025: Received 500; April 2025: Received 0" in html
    assert "900" not in html


def test_a_delivery_confirmed_today_is_not_published(app, client):
    org = make_org("Fresh Aid Group", public_name=True)
    place = make_place("Svizhe", oblast="Poltava Oblast")
    deliver(make_need(org, place=place, quantity=5), 5, datetime.now(UTC))
    db.session.commit()
    assert ledger_csv_rows(client) == []
    html = client.get("/transparency/ledger").get_data(as_text=True)
    assert "0 deliveries" in html and "Fresh Aid Group" not in html
    assert "Fresh Aid Group" not in client.get("/transparency").get_data(as_text=True)
    summary = client.get("/api/v1/transparency/summary").get_json()
    assert summary["totals"]["deliveries"] == 0 and summary["by_month"] == []
    assert summary["by_oblast"] == [] and summary["median_days_to_delivery"] is None


def test_whole_weeks_are_published_once_they_are_past_the_delay(app, client):
    """A delivery is public once its whole week is 14 days past, dated by that week's Monday;
    one in the following week is not, however old it is: a daily reader of the ledger learns
    the week, never the day."""
    org = make_org("Patient Aid Group", public_name=True)
    place = make_place("Terpyme", oblast="Poltava Oblast")
    cutoff = publication_cutoff()
    assert cutoff.weekday() == 0 and (cutoff.hour, cutoff.minute) == (0, 0)
    assert timedelta(days=14) <= datetime.now(UTC) - cutoff < timedelta(days=21)
    last_published = cutoff - timedelta(seconds=1)  # Sunday night of the week before
    deliver(make_need(org, place=place, quantity=5), 5, last_published)
    deliver(make_need(org, place=place, quantity=7), 7, cutoff)  # >= 14 days old, next week
    db.session.commit()
    rows = ledger_csv_rows(client)
    week = (cutoff - timedelta(days=7)).date()
    assert [(r["date"], r["group"], r["quantity"]) for r in rows] == [
        (week.isoformat(), "Patient Aid Group", "5")
    ]
    summary = client.get("/api/v1/transparency/summary").get_json()
    assert summary["totals"]["deliveries"] == 1
    assert summary["by_month"] == [
        {"month": week.isoformat()[:7], "deliveries": 1, "quantity_by_unit": {"pcs": 5}}
    ]


def test_the_delay_is_a_setting(app, client):
    org = make_org()
    deliver(make_need(org, quantity=5), 5, datetime.now(UTC) - timedelta(days=10))
    db.session.commit()
    assert ledger_csv_rows(client) == []
    app.config["TRANSPARENCY_DELAY_DAYS"] = 3  # the week of 3 days ago starts < 10 days ago
    assert len(ledger_csv_rows(client)) == 1
    app.config["TRANSPARENCY_DELAY_DAYS"] = 0  # at once
    deliver(make_need(org, quantity=5), 5, datetime.now(UTC) - timedelta(minutes=1))
    db.session.commit()
    assert len(ledger_csv_rows(client)) == 2


@pytest.mark.parametrize(
    "oblast", ["Zaporizhzhia Oblast", "Kharkiv Oblast", "Autonomous Republic of Crimea"]
)
def test_a_group_near_the_front_that_opted_in_is_not_named(app, client, oblast):
    org = make_org("Orikhiv Frontline Aid", public_name=True)
    place = make_place("Frontove", lat=47.57, lon=35.78, oblast=oblast)
    deliver(make_need(org, place=place, quantity=100), 100, datetime.now(UTC) - timedelta(days=30))
    db.session.commit()
    rows = ledger_csv_rows(client)
    assert [(r["oblast"], r["group"]) for r in rows] == [(oblast, "")]
    for url in ("/transparency", "/transparency/ledger"):
        html = client.get(url).get_data(as_text=True)
        assert "Orikhiv Frontline Aid" not in html and "not named" in html
    # The list is a setting: with none marked, the group's own choice counts again.
    app.config["FRONT_OBLASTS"] = frozenset()
    assert [r["group"] for r in ledger_csv_rows(client)] == ["Orikhiv Frontline Aid"]


def test_the_pages_say_how_deliveries_are_delayed_and_named(app, client):
    for url in ("/transparency", "/transparency/ledger"):
        html = client.get(url).get_data(as_text=True)
        assert "at least 14 days after" in html, url
        assert "dated by the week" in html and "near the front are never named" in html, url
