"""Spreadsheets of needs and offers (issue 16, item 4): one page per kind, linked from the
lists; import of CSV and XLSX through a preview of every row; all or nothing, or only the good
rows; idempotent confirmation; export to CSV and XLSX that imports again without loss."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from html import unescape

import openpyxl
import pytest
from sqlalchemy import func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.categories.models import Category
from aidmatch.extensions import db
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer
from aidmatch.permissions import Role
from tests.factories import make_user
from tests.posting_factories import make_need, make_place

HEADER = "title,category,quantity,place,oblast,urgency,needed_by,sensitive,delivery_note\n"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _preview(client, content: bytes, name: str = "needs.csv", plural: str = "needs"):
    return client.post(
        f"/{plural}/spreadsheets/preview",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _payload(response) -> str:
    found = re.search(r'name="payload" value="([^"]+)"', response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    return unescape(found.group(1))


def _confirm(client, payload: str, mode: str = "all", plural: str = "needs"):
    return client.post(f"/{plural}/spreadsheets/import", data={"payload": payload, "mode": mode})


def _import(client, content: bytes, name: str = "needs.csv", mode: str = "all", plural="needs"):
    preview = _preview(client, content, name, plural)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    return _confirm(client, _payload(preview), mode, plural)


def _xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _problems(response) -> dict[int, str]:
    """Each previewed row's problems as text, by row number."""
    html = response.get_data(as_text=True)
    rows = {}
    for number, body in re.findall(r'<tr id="row-(\d+)"[^>]*>(.*?)</tr>', html, re.S):
        rows[int(number)] = unescape(re.sub(r"<[^>]+>", " ", body.split("<td>")[-1]))
    return rows


@pytest.fixture
def organizer(app, login_as):
    user = make_user(Role.ORGANIZER)
    db.session.commit()
    login_as(user)
    return user


def test_the_page_is_linked_from_the_needs_and_offers_lists(app, client, login_as):
    organizer, donor = make_user(Role.ORGANIZER), make_user(Role.DONOR)
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    for user, plural in ((organizer, "needs"), (donor, "offers"), (coordinator, "needs")):
        client.post("/logout")
        login_as(user)
        page = client.get(f"/{plural}").get_data(as_text=True)
        assert f'href="/{plural}/spreadsheets"' in page
        assert client.get(f"/{plural}/spreadsheets").status_code == 200
    client.post("/logout")
    login_as(donor)
    assert 'href="/needs/spreadsheets"' not in client.get("/needs").get_data(as_text=True)
    assert client.get("/needs/spreadsheets").status_code == 403


def test_a_need_file_with_every_column_imports(organizer, client):
    make_place("Zlatopilske", lat=49.5, lon=36.5, oblast="Kharkiv Oblast")
    db.session.commit()
    text = (
        HEADER
        + "Tourniquets,tourniquets,20,Zlatopilske,Kharkiv Oblast,critical,,no,gate\n"
        + "Water,drinking-water,300,Zlatopilske,,normal,,yes,\n"
    )
    response = _import(client, text.encode("utf-8"))
    assert response.status_code == 302, response.get_data(as_text=True)
    needs = db.session.scalars(select(Need).order_by(Need.id)).all()
    assert [(n.title, n.quantity, n.sensitive, n.delivery_note) for n in needs] == [
        ("Tourniquets", 20, False, "gate"),
        ("Water", 300, True, ""),
    ]


def test_a_category_by_its_code_or_its_name_in_any_language(organizer, client):
    category = db.session.scalar(select(Category).where(Category.slug == "tourniquets"))
    names = {"uk": category.name_uk, "en": category.name_en, "de": category.name_de}
    for typed in ("tourniquets", " TOURNIQUETS ", *names.values(), names["uk"].upper(),
                  "  " + names["de"].lower().replace(" ", "  ") + " "):  # fmt: skip
        text = f"title,category,quantity,place\nCAT,{typed},2,Kyiv\n"
        preview = _preview(client, text.encode("utf-8"))
        assert preview.status_code == 200
        assert _problems(preview)[2].strip() == "ready", (typed, _problems(preview))
    response = _preview(
        client, "title,category,quantity,place\nx,Спальні мішкиии,1,Kyiv\n".encode()
    )
    assert "No category is called “Спальні мішкиии”" in _problems(response)[2]


def test_a_place_is_forgiven_a_typo_as_in_the_form(organizer, client):
    from aidmatch.postings.forms import lookup_place

    form = lookup_place("Краматорк", None)
    found = form.place or form.candidates[0]
    assert found.name_uk == "Краматорськ"
    text = "title,category,quantity,place\nГенератор,generators,1,Краматорк\n"
    response = _import(client, text.encode("utf-8"))
    assert response.status_code == 302, response.get_data(as_text=True)
    need = db.session.scalar(select(Need))
    assert need.place_id == found.id and need.point_set is False


def test_a_place_of_several_of_the_name_is_the_likeliest_and_said_so(organizer, client):
    text = "title,category,quantity,place,oblast\nA,water,1,Kyiv,\nB,water,1,Kyiv,Mykolaiv Oblast\n"
    preview = _preview(client, text.encode("utf-8"))
    html = unescape(preview.get_data(as_text=True))
    assert "Other places have this name too (Kyiv, Mykolaiv Oblast)" in html
    assert _confirm(client, _payload(preview)).status_code == 302
    oblasts = [n.place.oblast for n in db.session.scalars(select(Need).order_by(Need.id))]
    assert oblasts == ["Kyiv", "Mykolaiv Oblast"]


BAD_ROWS = (
    b"title,category,quantity,place,sensitive\n"
    b"Good row,tourniquets,20,Kyiv,no\n"
    b"Bad quantity,tourniquets,-3,Kyiv,no\n"
    b"Unknown place,tourniquets,3,Nowhereville Qx,no\n"
    b"Bad category,nope,3,Kyiv,maybe\n"
    b"Second good,water,5,Kyiv,yes\n"
)


def test_all_or_nothing_stores_nothing_when_a_row_is_bad(organizer, client):
    events = _count(AuditEvent)
    preview = _preview(client, BAD_ROWS)
    problems = _problems(preview)
    assert problems[2].strip() == "ready" and problems[6].strip() == "ready"
    assert "quantity : The quantity must be more than zero." in problems[3]
    assert "place : No place called “Nowhereville Qx” is known." in problems[4]
    assert "category : No category is called “nope”" in problems[5]
    assert "sensitive : Write yes or no." in problems[5]
    assert _count(Need) == 0  # a preview stores nothing
    response = _confirm(client, _payload(preview), mode="all")
    assert response.status_code == 422
    assert "Nothing was imported: 3 rows have problems." in response.get_data(as_text=True)
    assert _count(Need) == 0 and _count(AuditEvent) == events


def test_the_good_rows_only_and_a_confirmation_sent_twice_stores_once(organizer, client):
    preview = _preview(client, BAD_ROWS)
    payload = _payload(preview)
    first = _confirm(client, payload, mode="good")
    assert first.status_code == 302
    assert [n.title for n in db.session.scalars(select(Need).order_by(Need.id))] == [
        "Good row",
        "Second good",
    ]
    again = _confirm(client, payload, mode="good")
    assert again.status_code == 302
    assert _count(Need) == 2
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert (
        "2 rows had been imported already" in page and "3 rows with problems were left out" in page
    )


def test_a_preview_is_only_for_its_user_and_kind(organizer, client, login_as):
    preview = _preview(client, b"title,category,quantity,place\nA,water,1,Kyiv\n")
    payload = _payload(preview)
    assert _confirm(client, payload[:-3] + "xyz").status_code == 422
    client.post("/logout")
    login_as(make_user(Role.ORGANIZER))
    response = _confirm(client, payload)
    assert response.status_code == 422 and "upload the file again" in response.get_data(
        as_text=True
    )
    assert _count(Need) == 0


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "photo.png", "This is not a spreadsheet"),
        (b"PK\x03\x04 not really a zip", "needs.xlsx", "This is not a spreadsheet"),
        (b"", "needs.csv", "The file is empty"),
        (b"title,category,quantity,place\n\n\n", "needs.csv", "The file is empty"),
        (b"title,place\nA,Kyiv\n", "needs.csv", "the columns category, quantity are missing"),
        ("Übung".encode("latin-1"), "needs.csv", "not UTF-8"),
        (b"title,category,quantity,place\n" + b"A,water,1,Kyiv\n" * 1001, "n.csv", "At most 1000"),
        (b"x" * (2 * 1024 * 1024 + 1), "big.csv", "too large"),
    ],
)
def test_a_file_that_is_no_spreadsheet_too_big_or_empty_is_told_so(
    organizer, client, content, name, words
):
    response = _preview(client, content, name)
    assert response.status_code == 422
    assert words in unescape(response.get_data(as_text=True))
    assert 'name="payload"' not in response.get_data(as_text=True)


def test_an_empty_workbook_and_an_xlsx_of_offers(app, client, login_as):
    donor = make_user(Role.DONOR)
    db.session.commit()
    login_as(donor)
    response = _preview(client, _xlsx([]), "offers.xlsx", "offers")
    assert response.status_code == 422 and "The file is empty" in response.get_data(as_text=True)
    until = date.today() + timedelta(days=30)
    book = _xlsx(
        [
            ["Title", "Category", "Quantity", "Place", "delivery_radius_km", "available_until"],
            ["Sleeping bags", "Спальні мішки", 40.0, "Lviv", None, until],
            ["Food", "food", 7, "Lviv", 300, until.strftime("%d.%m.%Y")],
        ]
    )
    response = _import(client, book, "offers.xlsx", plural="offers")
    assert response.status_code == 302, response.get_data(as_text=True)
    offers = db.session.scalars(select(Offer).order_by(Offer.id)).all()
    assert [
        (o.category.slug, o.quantity, o.delivery_radius_km, o.available_until) for o in offers
    ] == [
        ("sleeping-bags", 40, None, until),
        ("food", 7, 300, until),
    ]


PLURALS = {
    # (one row with one problem, three rows with problems): the words of each language.
    "en": ("1 row has a problem.", "3 rows have problems."),
    "uk": ("1 рядок має проблему.", "3 рядки мають проблеми."),
    "de": ("1 Zeile hat ein Problem.", "3 Zeilen haben Probleme."),
}
QUANTITY_WORDS = {
    "en": "The quantity must be more than zero.",
    "uk": "Кількість має бути більшою за нуль.",
    "de": "Die Menge muss größer als null sein.",
}


@pytest.mark.parametrize("lang", ["uk", "en", "de"])
def test_the_preview_speaks_the_users_language_with_its_plurals(app, client, login_as, lang):
    user = make_user(Role.ORGANIZER, language=lang)
    db.session.commit()
    login_as(user)
    one = _preview(client, b"title,category,quantity,place\nA,water,-1,Kyiv\nB,water,1,Kyiv\n")
    html = unescape(one.get_data(as_text=True))
    assert PLURALS[lang][0] in html, html
    assert QUANTITY_WORDS[lang] in _problems(one)[2]
    assert "row 2" not in html.lower()
    three = _preview(client, BAD_ROWS)
    assert PLURALS[lang][1] in unescape(three.get_data(as_text=True))


def _thousand_needs(org, user) -> list[Need]:
    """1 000 needs that differ in every field an import reads: texts a spreadsheet would take
    for formulas, lines and quotes; categories, urgencies, dates, points of their own or none,
    places that share their name with others."""
    from aidmatch.needs.operations import create_need
    from aidmatch.places.models import Place

    categories = list(db.session.scalars(select(Category).order_by(Category.id)))
    places = list(
        db.session.scalars(select(Place).where(Place.country == "UA").order_by(Place.id).limit(40))
    )
    places += [make_place("Kyiv", lat=46.9, lon=31.9, oblast="Mykolaiv Oblast")]
    starts = ["=SUM(A1)", "+38 050", "-3 left", "@home", "'=quoted", "'plain", "plain"]
    today = date.today()
    needs = []
    for i in range(1000):
        place = places[i % len(places)]
        data = {
            "title": f'{starts[i % len(starts)]} need {i}, "quoted" ; semi',
            "description": "" if i % 5 == 0 else f"Line one {i}\nLine two, with ü and ї\t{i}",
            "category": categories[i % len(categories)].slug,
            "quantity": 1 + (i * 37) % 5000,
            "urgency": ("critical", "high", "normal", "low")[i % 4],
            "needed_by": None if i % 3 == 0 else today + timedelta(days=1 + i % 200),
            "sensitive": i % 7 == 0,
            "delivery_note": "" if i % 4 == 0 else f"Gate {i}; call =1+1",
            "place_id": place.id,
        }
        if i % 2:
            data["lat"], data["lon"] = place.lat + (i % 9) / 1000, place.lon - (i % 11) / 997
        needs.append(create_need(org, data, user))
    return needs


READ_FIELDS = (
    "title", "description", "category_id", "quantity", "urgency", "needed_by", "sensitive",
    "delivery_note", "place_id", "lat", "lon", "point_set",
)  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_round_trip_of_1000_needs_keeps_every_field(app, client, login_as, fmt):
    user = make_user(Role.ORGANIZER)
    before = _thousand_needs(user.organization, user)
    db.session.commit()
    login_as(user)
    exported = client.get(f"/needs/export.{fmt}?status=all")
    assert exported.status_code == 200
    response = _import(client, exported.get_data(), f"needs.{fmt}")
    assert response.status_code == 302, _problems(response)
    after = db.session.scalars(select(Need).where(Need.id > before[-1].id).order_by(Need.id)).all()
    assert len(after) == 1000

    def fields(need):
        return tuple(getattr(need, f) for f in READ_FIELDS)

    # The export lists the most urgent first; the import keeps the file's order.
    assert sorted(map(fields, after), key=repr) == sorted(map(fields, before), key=repr)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_organizers_export_their_own_needs_with_formulas_neutralised(app, client, login_as, fmt):
    user = make_user(Role.ORGANIZER)
    make_need(user.organization, user, title='=HYPERLINK("http://evil")', description="Why")
    other = make_user(Role.ORGANIZER)
    make_need(other.organization, other, title="Someone else's")
    db.session.commit()
    login_as(user)
    response = client.get(f"/needs/export.{fmt}")
    assert response.status_code == 200
    if fmt == "csv":
        assert response.mimetype == "text/csv"
        text = response.get_data(as_text=True).lstrip("\ufeff")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["title"] for r in rows] == ['\'=HYPERLINK("http://evil")']
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).worksheets[0]
        header, *values = [list(r) for r in sheet.iter_rows(values_only=True)]
        rows = [dict(zip(header, v, strict=True)) for v in values]
        assert [r["title"] for r in rows] == ['=HYPERLINK("http://evil")']
        assert sheet.cell(2, header.index("title") + 1).data_type == "s"  # text, no formula
    assert rows[0]["description"] == "Why"
    assert str(rows[0]["precision_km"]) == "0" and rows[0]["delivery_note"]


def test_the_xlsx_template_lists_categories_and_units_in_the_users_language(app, client, login_as):
    login_as(make_user(Role.ORGANIZER, language="uk"))
    db.session.commit()
    response = client.get("/needs/spreadsheets/template.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    needs, categories = book.worksheets
    assert [c.value for c in needs[1]][:4] == ["title", "description", "category", "quantity"]
    listed = {row[0]: row[1:] for row in categories.iter_rows(min_row=2, values_only=True)}
    tourniquets = db.session.scalar(select(Category).where(Category.slug == "tourniquets"))
    assert listed["tourniquets"][0] == tourniquets.name_uk
    assert len(listed) == _count(Category)
    csv_template = client.get("/needs/spreadsheets/template.csv").get_data(as_text=True)
    assert csv_template.lstrip("\ufeff").startswith("title,description,category,quantity")


def test_exports_validate_their_filters_and_others_may_not(app, client, login_as):
    login_as(make_user(Role.COORDINATOR))
    db.session.commit()
    assert client.get("/needs/export.xlsx?per_page=0").status_code == 422
    assert client.get("/offers/export.csv").status_code == 200
    assert client.post("/needs/spreadsheets/preview").status_code == 403  # staff post nothing
    client.post("/logout")
    login_as(make_user(Role.DONOR))
    assert client.get("/needs/export.xlsx").status_code == 403
    assert client.get("/needs/spreadsheets/template.xlsx").status_code == 403


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_round_trip_of_offers_keeps_every_field(app, client, login_as, fmt):
    from aidmatch.offers.operations import create_offer
    from aidmatch.places.models import Place

    user = make_user(Role.DONOR)
    places = list(db.session.scalars(select(Place).order_by(Place.id).limit(10)))
    categories = list(db.session.scalars(select(Category).order_by(Category.id)))
    before = []
    for i in range(60):
        data = {
            "title": f"=Offer {i}",
            "description": "" if i % 4 == 0 else f"Stock {i}\nsecond line",
            "category": categories[i % len(categories)].slug,
            "quantity": 1 + i,
            "place_id": places[i % len(places)].id,
            "delivery_radius_km": None if i % 3 == 0 else 10 + i,
            "available_until": None if i % 2 else date.today() + timedelta(days=i + 1),
        }
        if i % 5 == 0:
            data["lat"], data["lon"] = 50.1 + i / 1000, 30.2 + i / 1000
        before.append(create_offer(user.organization, data, user))
    db.session.commit()
    login_as(user)
    exported = client.get(f"/offers/export.{fmt}?status=all").get_data()
    assert _import(client, exported, f"offers.{fmt}", plural="offers").status_code == 302
    after = db.session.scalars(select(Offer).where(Offer.id > before[-1].id)).all()
    names = ("title", "description", "category_id", "quantity", "place_id", "lat", "lon",
             "point_set", "delivery_radius_km", "available_until")  # fmt: skip

    def fields(offer):
        return tuple(getattr(offer, f) for f in names)

    assert sorted(map(fields, after), key=repr) == sorted(map(fields, before), key=repr)


def test_post_many_answers_each_item_as_post_would(app, english):
    from aidmatch.needs.kind import NEED
    from aidmatch.needs.operations import post_need
    from aidmatch.postings.operations import KeyReused, post_many
    from aidmatch.refusals import Invalid

    user = make_user(Role.ORGANIZER)
    place = make_place()
    data = {"title": "Water", "category": "drinking-water", "quantity": 5, "place_id": place.id}
    first = post_need(user.organization, data, user, idempotency_key="k1").obj
    events = _count(AuditEvent)
    answers = post_many(
        NEED,
        user.organization,
        [
            (data, "k1"),  # the same content again: the need k1 made
            ({**data, "quantity": 6}, "k1"),  # other content under a used key: refused
            ({**data, "quantity": 0}, "k2"),  # invalid: refused, as post() would
            ({**data, "title": "Filters"}, "k3"),  # new
        ],
        user,
    )
    assert answers[0].obj is first and answers[0].created is False
    assert isinstance(answers[1], KeyReused) and answers[1].existing_id == first.id
    assert isinstance(answers[2], Invalid) and "quantity" in answers[2].fields
    assert answers[3].created and answers[3].obj.title == "Filters"
    assert answers[3].obj.idempotency_key == "k3" and answers[3].obj.point_set is False
    assert _count(AuditEvent) == events + 1
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert (event.action, event.object_id, event.after["title"]) == (
        "need.create",
        answers[3].obj.id,
        "Filters",
    )
