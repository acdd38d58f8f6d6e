"""CSV import of needs (all rows or none, errors name row and field) and CSV export."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.extensions import db
from aidmatch.needs.models import Need
from aidmatch.permissions import Role
from tests.factories import make_user
from tests.posting_factories import make_need, make_place

HEADER = "title,category,quantity,place,oblast,urgency,needed_by,sensitive,delivery_note\n"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _upload(client, content: bytes, name: str = "needs.csv"):
    return client.post(
        "/needs/import",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_import_creates_every_row(app, client, login_as):
    make_place("Zlatopilske", lat=49.5, lon=36.5, oblast="Kharkiv Oblast")
    user = make_user(Role.ORGANIZER)
    db.session.commit()
    login_as(user)
    text = (
        HEADER
        + "Tourniquets,tourniquets,20,Zlatopilske,Kharkiv Oblast,critical,,no,gate\n"
        + "Water,drinking-water,300,Zlatopilske,,normal,,yes,\n"
    )
    response = _upload(client, text.encode("utf-8"))
    assert response.status_code == 302, response.get_data(as_text=True)
    needs = db.session.scalars(select(Need).order_by(Need.id)).all()
    assert [(n.title, n.quantity, n.sensitive) for n in needs] == [
        ("Tourniquets", 20, False),
        ("Water", 300, True),
    ]


def test_an_exported_need_without_a_point_of_its_own_imports_without_one(app, client, login_as):
    """The export writes the settlement centre's lat and lon with point=settlement_centre; an
    import of that file must not take them for a point the group gave."""
    make_place("Zlatopilske", lat=49.5, lon=36.5, oblast="Kharkiv Oblast")
    user = make_user(Role.ORGANIZER)
    db.session.commit()
    login_as(user)
    text = HEADER + "Tourniquets,tourniquets,20,Zlatopilske,Kharkiv Oblast,critical,,no,gate\n"
    assert _upload(client, text.encode("utf-8")).status_code == 302
    exported = client.get("/needs/export.csv").get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(exported)))
    assert (row["point"], row["lat"], row["lon"]) == ("settlement_centre", "49.5", "36.5")
    response = _upload(client, exported.encode("utf-8"))
    assert response.status_code == 302, response.get_data(as_text=True)
    needs = db.session.scalars(select(Need).order_by(Need.id)).all()
    assert [(n.title, n.point_set) for n in needs] == [
        ("Tourniquets", False),
        ("Tourniquets", False),
    ]


def test_semicolon_and_bom_from_a_spreadsheet(app, client, login_as):
    make_place("Zlatopilske", lat=49.5, lon=36.5)
    user = make_user(Role.ORGANIZER)
    db.session.commit()
    login_as(user)
    text = "title;category;quantity;place\nГенератор;generators;1;Zlatopilske\n"
    assert _upload(client, text.encode("utf-8-sig")).status_code == 302
    assert _count(Need) == 1


def test_one_bad_row_imports_nothing_and_names_row_and_field(app, client, login_as):
    make_place("Zlatopilske", lat=49.5, lon=36.5)
    user = make_user(Role.ORGANIZER)
    db.session.commit()
    login_as(user)
    events = _count(AuditEvent)
    text = (
        HEADER
        + "Good row,tourniquets,20,Zlatopilske,,high,,no,\n"
        + "Bad quantity,tourniquets,-3,Zlatopilske,,high,,no,\n"
        + "Unknown place,tourniquets,3,Nowhereville Qx,,high,,no,\n"
        + "Bad category,nope,3,Zlatopilske,,high,,maybe,\n"
    )
    response = _upload(client, text.encode("utf-8"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "row 3: quantity" in page
    assert "row 4: place" in page
    assert "row 5: sensitive" in page
    assert _count(Need) == 0 and _count(AuditEvent) == events


def test_wrong_encoding_and_missing_column(app, client, login_as):
    login_as(make_user(Role.ORGANIZER))
    db.session.commit()
    latin1 = "title,category,quantity,place\nÜbung,dressings,5,Wien\n".encode("latin-1")
    response = _upload(client, latin1)
    assert response.status_code == 422 and "UTF-8" in response.get_data(as_text=True)
    response = _upload(client, b"title,category,place\nx,water,Kyiv\n")
    assert response.status_code == 422 and "quantity" in response.get_data(as_text=True)
    assert _upload(client, b"").status_code == 422
    assert _count(Need) == 0


def test_donors_cannot_import(app, client, login_as):
    login_as(make_user(Role.DONOR))
    db.session.commit()
    assert client.get("/needs/import").status_code == 403


def test_organizer_exports_own_needs_only_with_formulas_neutralised(app, client, login_as):
    user = make_user(Role.ORGANIZER)
    make_need(user.organization, user, title='=HYPERLINK("http://evil")')
    other = make_user(Role.ORGANIZER)
    make_need(other.organization, other, title="Someone else's")
    db.session.commit()
    login_as(user)
    response = client.get("/needs/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["title"] for r in rows] == ['\'=HYPERLINK("http://evil")']
    assert rows[0]["precision_km"] == "0" and rows[0]["delivery_note"]


def test_export_filters_are_validated(app, client, login_as):
    login_as(make_user(Role.COORDINATOR))
    db.session.commit()
    assert client.get("/needs/export.csv?per_page=0").status_code == 422
    assert client.get("/offers/export.csv").status_code == 200
