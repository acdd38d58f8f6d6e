"""HXL and P-codes (issue 18, part 6): the OCHA P-codes of 20 places of the codifier, the
HXL exports of needs, offers and deliveries and the public dataset of deliveries per hromada
and month, each read with libhxl, which must find every hashtag; and what they leave out."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import hxl
import pytest
from sqlalchemy import select

from aidmatch.extensions import db
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.places.models import Place
from aidmatch.places.pcodes import iso_3166_2, pcodes
from aidmatch.postings.sheets import read_rows
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place

# Settlements of the codifier (KATOTTG, aidmatch/places/data/places.tsv.gz), with their adm1,
# adm2 and adm3 P-codes as OCHA's COD-AB for Ukraine gives them and the ISO 3166-2 code of
# their first level (which differs for Crimea, Kyiv, Sevastopol, Luhansk and Chernivtsi).
KNOWN = [
    ("UA80000000000093317", "Kyiv", "UA80", "UA8000", "UA8000000", "UA-30"),
    ("UA85000000000065278", "Sevastopol", "UA85", "UA8500", "UA8500000", "UA-40"),
    ("UA01160330010074014", "Simferopol", "UA01", "UA0116", "UA0116033", "UA-43"),
    ("UA01020030010043419", "Aromatne", "UA01", "UA0102", "UA0102003", "UA-43"),
    ("UA63120270010096107", "Kharkiv", "UA63", "UA6312", "UA6312027", "UA-63"),
    ("UA51100270010076757", "Odesa", "UA51", "UA5110", "UA5110027", "UA-51"),
    ("UA12020010010037010", "Dnipro", "UA12", "UA1202", "UA1202001", "UA-12"),
    ("UA14080030010048113", "Donetsk", "UA14", "UA1408", "UA1408003", "UA-14"),
    ("UA46060250010015970", "Lviv", "UA46", "UA4606", "UA4606025", "UA-46"),
    ("UA23060070010069526", "Zaporizhzhia", "UA23", "UA2306", "UA2306007", "UA-23"),
    ("UA05020030010063857", "Vinnytsia", "UA05", "UA0502", "UA0502003", "UA-05"),
    ("UA44060010010012753", "Luhansk", "UA44", "UA4406", "UA4406001", "UA-09"),
    ("UA74100390010054825", "Chernihiv", "UA74", "UA7410", "UA7410039", "UA-74"),
    ("UA73060610010033137", "Chernivtsi", "UA73", "UA7306", "UA7306061", "UA-77"),
    ("UA35040210010019355", "Kropyvnytskyi", "UA35", "UA3504", "UA3504021", "UA-35"),
    ("UA07080170010083384", "Lutsk", "UA07", "UA0708", "UA0708017", "UA-07"),
    ("UA32020010010081183", "Bila Tserkva", "UA32", "UA3202", "UA3202001", "UA-32"),
    ("UA65100150010064384", "Kherson", "UA65", "UA6510", "UA6510015", "UA-65"),
    ("UA59020090110021193", "Vasylkivshchyna", "UA59", "UA5902", "UA5902009", "UA-59"),
    ("UA21100230010016545", "Uzhhorod", "UA21", "UA2110", "UA2110023", "UA-21"),
]
EXPORT_TAGS = (
    "#item+name", "#item+type", "#item+unit", "#item+num", "#org+name", "#severity", "#status",
    "#date+reported", "#date+end", "#adm1+code", "#adm2+code", "#adm3+code", "#adm1+name",
    "#loc+name", "#meta+id",
)  # fmt: skip
OFFER_TAGS = tuple(t for t in EXPORT_TAGS if t != "#severity")  # an offer has no urgency
DELIVERY_TAGS = (
    "#meta+id", "#item+name", "#item+type", "#item+unit", "#item+num", "#status",
    "#date+reported", "#org+name", "#org+name+provider", "#org+name+beneficiary",
    "#adm1+code", "#adm2+code", "#adm3+code", "#adm1+name", "#loc+name",
)  # fmt: skip
DATASET_TAGS = (
    "#date+reported", "#country+code", "#adm1+code", "#adm1+name", "#adm2+code", "#adm3+code",
    "#adm3+name", "#item+type", "#item+unit", "#item+num", "#indicator+num", "#org+name",
)  # fmt: skip


def place(code: str) -> Place:
    return db.session.scalar(select(Place).where(Place.code == code))


def read_hxl(raw: bytes):
    """The file as libhxl reads it: its columns and its rows as {hashtag: value}."""
    source = hxl.data(io.BytesIO(raw))
    columns = source.columns
    rows = [{c.display_tag: v for c, v in zip(columns, r.values, strict=False)} for r in source]
    return columns, rows


def assert_every_tag(columns, tags) -> None:
    """libhxl finds a column for every hashtag (a pattern: #org+name finds #org+name+provider)."""
    missing = [t for t in tags if hxl.model.TagPattern.parse(t).find_column_index(columns) is None]
    assert not missing, f"libhxl finds no column for {missing}"


# --- P-codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "name", "adm1", "adm2", "adm3", "iso"), KNOWN)
def test_pcodes_of_known_places(app, code, name, adm1, adm2, adm3, iso):
    found = place(code)
    assert found is not None and found.name == name
    assert (found.adm1_pcode, found.adm2_pcode, found.adm3_pcode) == (adm1, adm2, adm3)
    assert pcodes(code) == (adm1, adm2, adm3)
    assert found.adm1_name == found.oblast
    assert iso_3166_2(code) == iso and iso_3166_2(adm1) == iso
    if found.hromada_code:  # the hromada's own code gives the same P-codes
        assert pcodes(found.hromada_code) == (adm1, adm2, adm3)


def test_the_places_api_carries_the_codes(app, client):
    items = client.get("/api/v1/places?q=Sevastopol&limit=1").get_json()["items"]
    assert [(p["code"], p["adm1_pcode"], p["adm2_pcode"], p["adm3_pcode"]) for p in items] == [
        ("UA85000000000065278", "UA85", "UA8500", "UA8500000")
    ]
    foreign = client.get("/api/v1/places?q=Warsaw&limit=1&country=PL").get_json()["items"]
    assert foreign[0]["code"].startswith("GN") and foreign[0]["adm1_pcode"] is None


def test_the_table_spreads_over_oblasts():
    assert len(KNOWN) == 20 and len({row[2] for row in KNOWN}) == 19


@pytest.mark.parametrize("code", ["GN2643743", "TEST000001", "", None, "UA6312", "UA631202700"])
def test_no_pcodes_for_foreign_places_and_other_codes(code):
    assert pcodes(code) is None
    assert iso_3166_2(code) is None


def test_a_foreign_city_has_no_pcodes(app):
    foreign = db.session.scalar(select(Place).where(Place.country != "UA").limit(1))
    assert foreign.code.startswith("GN")
    assert (foreign.adm1_pcode, foreign.adm2_pcode, foreign.adm3_pcode) == (None, None, None)
    assert foreign.adm1_name is None


# --- exports of needs and offers ---------------------------------------------------------


def _needs_world():
    """A group in Lviv that chose to be named, one in Kharkiv (near the front) that chose too,
    one in Vinnytsia that did not; each posts a need, the Lviv one a sensitive need too."""
    lviv = make_org("Lviv Named Aid", public_name=True)
    kharkiv = make_org("Kharkiv Front Aid", public_name=True)
    quiet = make_org("Vinnytsia Quiet Aid")
    make_need(lviv, place=place(KNOWN[8][0]), title="Lviv gauze", needed_by="2030-01-31")
    make_need(lviv, place=place(KNOWN[8][0]), title="Secret radios", sensitive=True)
    make_need(
        kharkiv, place=place(KNOWN[4][0]), title="Kharkiv tourniquets", lat=49.99123, lon=36.23417
    )
    make_need(quiet, place=place(KNOWN[10][0]), title="Vinnytsia splints")
    db.session.commit()
    return lviv, kharkiv, quiet


def test_needs_hxl_export_csv(app, client, login_as):
    _needs_world()
    login_as(make_user(Role.COORDINATOR))
    response = client.get("/needs/export.csv?status=all&hxl=1")
    assert (
        response.status_code == 200 and "needs-hxl.csv" in response.headers["Content-Disposition"]
    )
    raw = response.get_data()
    columns, rows = read_hxl(raw)
    assert_every_tag(columns, EXPORT_TAGS)
    by_id = {r["#loc+name"] + ":" + r["#item+name"]: r for r in rows}
    lviv = by_id["Lviv:Lviv gauze"]
    assert (lviv["#adm1+code"], lviv["#adm2+code"], lviv["#adm3+code"]) == (
        "UA46",
        "UA4606",
        "UA4606025",
    )
    assert lviv["#adm1+name"] == "Lviv Oblast" and lviv["#org+name"] == "Lviv Named Aid"
    assert lviv["#severity"] == "high" and lviv["#date+end"] == "2030-01-31"
    assert lviv["#item+type"] == "tourniquets" and lviv["#status"] == "open"
    # Near the front, or not chosen: no name; a sensitive need: not in the file at all.
    assert by_id["Kharkiv:Kharkiv tourniquets"]["#org+name"] == ""
    assert by_id["Vinnytsia:Vinnytsia splints"]["#org+name"] == ""
    assert sorted(by_id) == [
        "Kharkiv:Kharkiv tourniquets", "Lviv:Lviv gauze", "Vinnytsia:Vinnytsia splints"
    ]  # fmt: skip
    assert "Secret radios" not in raw.decode("utf-8-sig")
    text = raw.decode("utf-8-sig")
    for private in ("49.99123", "Call Oksana", "CAT gen 7", "Signal +380"):
        assert private not in text  # no point, delivery note, description, contact


def test_needs_hxl_export_xlsx_of_a_group_names_itself(app, client, login_as):
    _lviv, kharkiv, _quiet = _needs_world()
    kharkiv_member = make_user(Role.ORGANIZER, org=kharkiv)
    db.session.commit()
    login_as(kharkiv_member)
    response = client.get("/needs/export.xlsx?status=all&hxl=1")
    assert response.status_code == 200
    columns, rows = read_hxl(response.get_data())  # libhxl reads the workbook itself
    assert_every_tag(columns, EXPORT_TAGS)
    assert [(r["#item+name"], r["#org+name"]) for r in rows] == [
        ("Kharkiv tourniquets", "Kharkiv Front Aid")  # its own rows; its own name
    ]
    assert rows[0]["#adm3+code"] == "UA6312027"


def test_the_export_without_hxl_has_no_hashtag_row(app, client, login_as):
    _needs_world()
    login_as(make_user(Role.COORDINATOR))
    text = client.get("/needs/export.csv?status=all").get_data(as_text=True)
    assert "#item+name" not in text and "49.99123" in text  # staff's ordinary export


def test_an_hxl_export_imports_again(app, client, login_as):
    """Its hashtag row is skipped by the import."""
    _needs_world()
    login_as(make_user(Role.COORDINATOR))
    raw = client.get("/needs/export.csv?status=all&hxl=1").get_data()
    rows = read_rows(raw, ("title", "category", "quantity", "place", "oblast"))
    assert all(not r["title"].startswith("#") for _n, r in rows)
    assert {r["title"] for _n, r in rows} >= {"Lviv gauze", "Kharkiv tourniquets"}


def test_offers_hxl_export(app, client, login_as):
    donor = make_user(Role.DONOR)
    make_offer(
        donor.organization, place=place(KNOWN[0][0]), title="Kyiv stock", lat=50.45123, lon=30.52417,
        available_until="2030-02-28",
    )  # fmt: skip
    db.session.commit()
    login_as(donor)
    raw = client.get("/offers/export.csv?status=all&hxl=1").get_data()
    columns, rows = read_hxl(raw)
    assert_every_tag(columns, OFFER_TAGS)
    assert [(r["#adm1+code"], r["#adm2+code"], r["#adm3+code"]) for r in rows] == [
        ("UA80", "UA8000", "UA8000000")
    ]
    assert rows[0]["#date+end"] == "2030-02-28"
    assert rows[0]["#org+name"] == donor.organization.name  # its own
    assert "50.45123" not in raw.decode("utf-8-sig")


def test_the_export_form_offers_hxl(app, client, login_as):
    login_as(make_user(Role.ORGANIZER))
    html = client.get("/needs/spreadsheets").get_data(as_text=True)
    assert 'name="hxl"' in html and 'type="checkbox"' in html


# --- deliveries ----------------------------------------------------------------------------


def deliver(need, received: int, when: datetime, donor_org=None):
    """A delivered match on need, written directly (as the lifecycle would leave it)."""
    match = Match(
        need=need,
        organization=donor_org or make_org(kind=OrgKind.DONOR_COLLECTIVE),
        quantity=received,
        quantity_received=received,
        source=MatchSource.CLAIM,
        status=MatchStatus.DELIVERED,
        delivered_at=when,
        delivery_note="Left with the guard at gate 3",
    )
    db.session.add(match)
    need.pledged += received
    need.delivered += received
    db.session.flush()
    return match


def test_deliveries_hxl_export(app, client, login_as):
    group = make_org("Odesa Open Aid", public_name=True)
    donor = make_org("Quiet Donors", kind=OrgKind.DONOR_COLLECTIVE)
    other = make_org("Other Group")
    need = make_need(group, place=place(KNOWN[5][0]), title="Odesa gauze", quantity=10)
    deliver(need, 7, datetime(2025, 5, 14, 10, tzinfo=UTC), donor)  # a Wednesday
    today = make_need(group, place=place(KNOWN[5][0]), title="Odesa today", quantity=3)
    deliver(today, 3, datetime.now(UTC), donor)  # not yet past the transparency delay
    deliver(make_need(other, title="Not ours", quantity=5), 5, datetime(2025, 5, 1, tzinfo=UTC))
    member = make_user(Role.ORGANIZER, org=group)
    db.session.commit()

    login_as(member)
    response = client.get("/matches/deliveries.csv?hxl=1")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    columns, rows = read_hxl(raw)
    assert_every_tag(columns, DELIVERY_TAGS)
    assert len(rows) == 1  # its own deliveries, once published
    row = rows[0]
    assert row["#item+num"] == "7" and row["#date+reported"] == "2025-05-12"  # its week
    assert (row["#adm1+code"], row["#adm3+code"], row["#loc+name"]) == (
        "UA51",
        "UA5110027",
        "Odesa",
    )
    assert row["#org+name+beneficiary"] == "Odesa Open Aid"
    assert row["#org+name+provider"] == ""  # the donor did not choose to be named
    assert "Left with the guard" not in raw.decode("utf-8-sig")

    plain = client.get("/matches/deliveries.csv").get_data(as_text=True)
    assert "#item+name" not in plain and "Quiet Donors" in plain  # the sides see both names
    assert "2025-05-14" in plain and "Odesa today" in plain  # their own record: every day
    html = client.get("/matches").get_data(as_text=True)
    assert "/matches/deliveries.csv" in html and 'name="hxl"' in html


def test_deliveries_export_of_staff_and_of_nobody(app, client, login_as):
    deliver(make_need(make_org(), quantity=5), 5, datetime(2025, 5, 1, tzinfo=UTC))
    deliver(make_need(make_org(), quantity=5), 5, datetime(2025, 5, 2, tzinfo=UTC))
    staff = make_user(Role.COORDINATOR)
    db.session.commit()
    assert client.get("/matches/deliveries.csv").status_code in (302, 401)  # not logged in
    login_as(staff)
    _columns, rows = read_hxl(client.get("/matches/deliveries.csv?hxl=1").get_data())
    assert len(rows) == 2  # staff: every delivery


# --- the public dataset ------------------------------------------------------------------


def _dataset_world():
    """March 2025: three deliveries in Lviv's hromada (a group that chose to be named), one in
    Vinnytsia's (too few: counted in its oblast), three in Kharkiv's (near the front: counted
    in its oblast, its group not named though it chose to be), one sensitive in Lviv."""
    named = make_org("Lviv Named Aid", public_name=True)
    front = make_org("Kharkiv Front Aid", public_name=True)
    quiet = make_org("Vinnytsia Quiet Aid")
    march = datetime(2025, 3, 12, 9, tzinfo=UTC)
    lviv, vinnytsia, kharkiv = place(KNOWN[8][0]), place(KNOWN[10][0]), place(KNOWN[4][0])
    for _ in range(3):
        deliver(make_need(named, place=lviv, quantity=10), 10, march)
        deliver(make_need(front, place=kharkiv, quantity=4), 4, march)
    deliver(make_need(quiet, place=vinnytsia, quantity=2), 2, march)
    deliver(make_need(named, place=lviv, quantity=6, sensitive=True), 6, march)
    db.session.commit()


def test_the_public_dataset(app, client):
    _dataset_world()
    response = client.get("/transparency/deliveries.hxl.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    columns, rows = read_hxl(raw)
    assert_every_tag(columns, DATASET_TAGS)
    got = {
        (r["#adm1+code"], r["#adm2+code"], r["#adm3+code"]): (
            r["#date+reported"], r["#indicator+num+deliveries"], r["#item+num"], r["#org+name"],
        )
        for r in rows
    }  # fmt: skip
    assert got == {
        ("UA46", "UA4606", "UA4606025"): ("2025-03", "4", "36", "Lviv Named Aid"),
        ("UA05", "", ""): ("2025-03", "1", "2", ""),
        ("UA63", "", ""): ("2025-03", "3", "12", ""),
    }
    lviv = next(r for r in rows if r["#adm3+code"] == "UA4606025")
    assert lviv["#adm3+name"] == "Lvivska hromada" and lviv["#adm1+name"] == "Lviv Oblast"
    text = raw.decode("utf-8-sig")
    assert "Kharkiv Front Aid" not in text and "Vinnytsia Quiet Aid" not in text
    assert "Left with the guard" not in text and "2025-03-12" not in text


def test_the_dataset_waits_for_the_transparency_delay(app, client):
    need = make_need(make_org(public_name=True), place=place(KNOWN[8][0]), quantity=3)
    deliver(need, 3, datetime.now(UTC))
    db.session.commit()
    _columns, rows = read_hxl(client.get("/transparency/deliveries.hxl.csv").get_data())
    assert rows == []
    html = client.get("/transparency").get_data(as_text=True)
    assert "/transparency/deliveries.hxl.csv" in html


def test_a_test_place_is_counted_by_its_country(app, client):
    """A place without a codifier code (a test's own) still counts, with no P-codes."""
    deliver(
        make_need(make_org(), place=make_place("Nowhere"), quantity=3),
        3,
        datetime(2025, 1, 8, tzinfo=UTC),
    )
    db.session.commit()
    _columns, rows = read_hxl(client.get("/transparency/deliveries.hxl.csv").get_data())
    assert [
        (r["#country+code"], r["#adm1+code"], r["#indicator+num+deliveries"]) for r in rows
    ] == [("UA", "", "1")]
