"""/admin/categories: add, rename in uk/en/de, move (no cycles), retire (old needs keep
their category and show its name; new postings may not take it: form, API, CSV), restore;
every change in the audit trail."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from aidmatch.audit.models import AuditEvent
from aidmatch.categories.editing import (
    add_category,
    move_category,
    rename_category,
    restore_category,
    retire_category,
)
from aidmatch.categories.menu import category_menu
from aidmatch.categories.models import Category
from aidmatch.extensions import db
from aidmatch.needs.models import Need
from aidmatch.permissions import Role
from aidmatch.refusals import Conflict, Invalid
from tests.factories import make_user
from tests.posting_factories import category, make_need, make_place

NAMES = {"uk": "Туристичні пальники", "en": "Camping stoves", "de": "Campingkocher"}


def _actions(slug: str) -> list[str]:
    cat = category(slug)
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "categories", AuditEvent.object_id == cat.id)
            .order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def admin(app):
    user = make_user(Role.ADMIN)
    db.session.commit()
    return user


def _in(client, url: str, language: str) -> str:
    client.post("/language", data={"language": language, "next": "/"})
    return client.get(url).get_data(as_text=True)


def test_add_a_category_through_the_page(app, client, login_as, admin):
    login_as(admin)
    shelter = category("shelter")
    form = {"slug": "camping-stoves", "name_uk": NAMES["uk"], "name_en": NAMES["en"],
            "name_de": NAMES["de"], "unit": "pcs", "parent": str(shelter.id)}  # fmt: skip
    response = client.post("/admin/categories", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    added = category("camping-stoves")
    assert (added.parent_id, added.name_de, str(added.unit)) == (shelter.id, "Campingkocher", "pcs")
    assert _actions("camping-stoves") == ["category.create"]
    organizer = make_user(Role.ORGANIZER)
    db.session.commit()
    client.post("/logout")
    login_as(organizer)
    assert 'value="camping-stoves"' in client.get("/needs/new").get_data(as_text=True)

    # A taken code, a bad code and a missing name: refused on the form, what was typed kept.
    client.post("/logout")
    login_as(admin)
    again = client.post("/admin/categories", data=form)
    assert again.status_code == 422
    assert "exists already" in again.get_data(as_text=True)
    bad = client.post("/admin/categories", data={**form, "slug": "Camping Stoves", "name_de": ""})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Use lower-case Latin letters" in text and 'value="Camping Stoves"' in text
    assert 'value="Туристичні пальники"' in text


def test_rename_shows_in_all_three_languages(app, client, login_as, admin):
    group_user = make_user(Role.ORGANIZER)
    need = make_need(group_user.organization, category="tourniquets")
    db.session.commit()
    login_as(admin)
    cat = category("tourniquets")
    names = {"name_uk": "Джгути CAT", "name_en": "CAT tourniquets", "name_de": "CAT-Tourniquets",
             "parent": str(cat.parent_id)}  # fmt: skip
    assert client.post(f"/admin/categories/{cat.id}", data=names).status_code == 302
    for language, name in (("uk", "Джгути CAT"), ("en", "CAT tourniquets"),
                           ("de", "CAT-Tourniquets")):  # fmt: skip
        assert name in _in(client, f"/needs/{need.id}", language), language
        assert name in _in(client, "/admin/categories", language), language
    assert _actions("tourniquets") == ["category.rename"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "category.rename"))
    assert event.after == {"name_uk": "Джгути CAT", "name_en": "CAT tourniquets",
                           "name_de": "CAT-Tourniquets"}  # fmt: skip
    # An empty name: refused next to the field (the page in English again).
    client.post("/language", data={"language": "en", "next": "/"})
    response = client.post(f"/admin/categories/{cat.id}", data={**names, "name_uk": " "})
    assert response.status_code == 422
    assert "Enter the name in this language." in response.get_data(as_text=True)


def test_move_and_no_cycles(app, client, login_as, admin, english):
    login_as(admin)
    medical = category("medical")
    child = next(c for c in db.session.scalars(select(Category)) if c.parent_id == medical.id)
    energy = category("energy")
    data = {"name_uk": medical.name_uk, "name_en": medical.name_en, "name_de": medical.name_de}
    # Under its own child: refused, nothing moves.
    response = client.post(f"/admin/categories/{medical.id}", data={**data, "parent": child.id})
    assert response.status_code == 422
    assert "cannot move under itself" in response.get_data(as_text=True)
    db.session.expire_all()
    assert category("medical").parent_id is None
    with pytest.raises(Invalid):
        move_category(admin, medical, medical)
    # Under energy: moved with its branch; then back to the top.
    assert client.post(f"/admin/categories/{medical.id}",
                       data={**data, "parent": energy.id}).status_code == 302  # fmt: skip
    db.session.expire_all()
    assert category("medical").parent_id == energy.id
    assert category(child.slug).parent_id == medical.id
    assert (
        client.post(f"/admin/categories/{medical.id}", data={**data, "parent": ""}).status_code
        == 302
    )
    db.session.expire_all()
    assert category("medical").parent_id is None
    assert _actions("medical") == ["category.move", "category.move"]
    assert client.post(f"/admin/categories/{medical.id}",
                       data={**data, "parent": "99999"}).status_code == 422  # fmt: skip


def test_retire_keeps_old_needs_and_hides_it_from_new_ones(
    app, client, login_as, admin, api_client
):
    organizer = make_user(Role.ORGANIZER)
    place = make_place("Retiredtown", lat=49.5, lon=36.5)
    old = make_need(organizer.organization, category="tourniquets", place=place)
    db.session.commit()
    login_as(admin)
    cat = category("tourniquets")
    assert client.post(f"/admin/categories/{cat.id}/retire").status_code == 302
    db.session.expire_all()
    assert category("tourniquets").retired_at is not None
    assert "retired" in client.get("/admin/categories").get_data(as_text=True)

    client.post("/logout")
    login_as(organizer)
    # The old need still reads with its category's name, in lists and on its page.
    assert "Tourniquets" in client.get(f"/needs/{old.id}").get_data(as_text=True)
    assert "Tourniquets" in client.get("/needs?mine=y").get_data(as_text=True)
    # The form for a new need no longer offers it; a post naming it is refused.
    assert 'value="tourniquets"' not in client.get("/needs/new").get_data(as_text=True)
    form = {"title": "More tourniquets", "category": "tourniquets", "quantity": "5",
            "urgency": "high", "place_name": place.name, "place_id": str(place.id)}  # fmt: skip
    refused = client.post("/needs/new", data=form)
    assert refused.status_code == 200  # the form again, as for any refusal
    assert "no longer used for new needs and offers" in refused.get_data(as_text=True)
    # Editing the old need keeps its category (offered there, and accepted).
    edit = client.get(f"/needs/{old.id}/edit").get_data(as_text=True)
    assert 'value="tourniquets"' in edit
    kept = client.post(f"/needs/{old.id}/edit", data={**form, "title": "Tourniquets, still"})
    assert kept.status_code == 302, kept.get_data(as_text=True)
    # The API and CSV import refuse it too; the API's list leaves it out.
    api = api_client(organizer)
    assert "tourniquets" not in {c["slug"] for c in api.get("/categories").get_json()["items"]}
    body = {"title": "x", "category": "tourniquets", "quantity": 1, "urgency": "low",
            "place_id": place.id}  # fmt: skip
    answer = api.post("/needs", json=body)
    assert answer.status_code == 422
    assert "category" in answer.get_json()["error"]["fields"]
    csv_text = ("title,category,quantity,place,oblast,urgency,needed_by,sensitive,delivery_note\n"
                f"Tourniquets,tourniquets,20,{place.name},,critical,,no,\n")  # fmt: skip
    upload = client.post("/needs/spreadsheets/preview",
                         data={"file": (io.BytesIO(csv_text.encode()), "n.csv")},
                         content_type="multipart/form-data")  # fmt: skip
    assert upload.status_code == 200  # the preview: the row and its problem, nothing stored
    assert db.session.scalar(select(Need.id).where(Need.title == "Tourniquets")) is None
    assert "no longer used" in upload.get_data(as_text=True)

    # Restored: offered again.
    client.post("/logout")
    login_as(admin)
    assert client.post(f"/admin/categories/{cat.id}/restore").status_code == 302
    client.post("/logout")
    login_as(organizer)
    assert 'value="tourniquets"' in client.get("/needs/new").get_data(as_text=True)
    assert _actions("tourniquets") == ["category.retire", "category.restore"]


def test_retiring_a_branch_and_the_verbs_refusals(app, english, admin):
    medical = category("medical")
    below = [c for c in db.session.scalars(select(Category)) if c.parent_id == medical.id]
    retired = retire_category(admin, medical)
    assert {c.id for c in retired} >= {medical.id, *(c.id for c in below)}
    menu = category_menu("en")
    assert "medical" not in {g["slug"] for g in menu.groups}
    assert menu.names["medical"] == medical.name_en  # old rows still name it
    with pytest.raises(Conflict, match="retired already"):
        retire_category(admin, medical)
    with pytest.raises(Conflict, match="restore the parent first"):
        restore_category(admin, below[0])
    with pytest.raises(Invalid, match="choose an active parent"):
        add_category(admin, "new-kit", NAMES, "pcs", medical)
    with pytest.raises(Invalid, match="choose an active parent"):
        move_category(admin, category("energy"), medical)
    with pytest.raises(Invalid, match="Choose a unit"):
        add_category(admin, "new-kit", NAMES, "barrels", None)
    with pytest.raises(Invalid) as missing:
        rename_category(admin, category("energy"), {"uk": "Енергія", "en": "", "de": "x" * 121})
    assert set(missing.value.fields) == {"name_en", "name_de"}
    assert rename_category(admin, category("energy"), {
        "uk": category("energy").name_uk, "en": category("energy").name_en,
        "de": category("energy").name_de}) is False  # fmt: skip
