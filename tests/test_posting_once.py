"""Forms that forgive a bad connection: a need or offer sent twice (the same one-time token
of its form, or the same Idempotency-Key of an API call) is posted once; the forms carry what
static/js/drafts.js needs; and the place box works without JavaScript."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.extensions import db
from aidmatch.needs.models import Need
from aidmatch.needs.operations import post_need, update_need
from aidmatch.offers.models import Offer
from aidmatch.offers.operations import post_offer, update_offer
from aidmatch.permissions import Role
from aidmatch.postings.operations import KeyReused
from aidmatch.refusals import Refusal
from aidmatch.web.errors import refusal_status
from tests.factories import make_user
from tests.posting_factories import make_need, make_offer, make_place
from tests.test_needs_pages import field_error, form_data, unique
from tests.test_offers_pages import form_data as offer_form_data


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def token_in(html: str) -> str:
    """The one-time token a new need's or offer's form was drawn with."""
    found = re.search(r'<input id="idempotency_key" name="idempotency_key" type="hidden" '
                      r'value="([^"]+)"', html)  # fmt: skip
    assert found, "no one-time token in the form"
    return found.group(1)


def need_data(place, **overrides) -> dict:
    data = {
        "title": "Generator for the field kitchen",
        "category": "generators",
        "quantity": 2,
        "urgency": "high",
        "place_id": place.id,
    }
    data.update(overrides)
    return data


def offer_data(place, **overrides) -> dict:
    data = {"title": "Generators 5 kW", "category": "generators", "quantity": 4}
    data.update(place_id=place.id, **overrides)
    return data


def signed_in(login_as, role=Role.ORGANIZER, town: str = "Zorianka"):
    """Log in a new user of that role (in English); return a place of our own to post at."""
    user = make_user(role, language="en")
    place = make_place(unique(town))
    db.session.commit()
    login_as(user)
    return place


def flashes(response) -> str:
    """The flash messages of the page a redirect leads to (read once, as the page would)."""
    return " ".join(re.findall(r'<p class="flash[^"]*" role="status">([^<]*)</p>', response))


# --- the operations ------------------------------------------------------------------------


def test_the_same_key_posts_a_need_once(app):
    user = make_user(Role.ORGANIZER)
    place = make_place()
    first = post_need(user.organization, need_data(place), user, idempotency_key="k-1")
    again = post_need(user.organization, need_data(place), user, idempotency_key=" k-1 ")
    assert (first.created, again.created) == (True, False)
    assert again.obj.id == first.obj.id and first.obj.idempotency_key == "k-1"
    other = post_need(user.organization, need_data(place), user, idempotency_key="k-2")
    keyless = [post_need(user.organization, need_data(place), user) for _ in range(2)]
    assert other.created and all(p.created for p in keyless)
    assert count(Need) == 4
    creations = select(func.count()).where(AuditEvent.action == "need.create")
    assert db.session.scalar(creations) == 4  # a repeat writes no audit event


def test_a_key_is_per_organization(app):
    place = make_place()
    one, two = make_user(Role.ORGANIZER), make_user(Role.ORGANIZER)
    a = post_need(one.organization, need_data(place), one, idempotency_key="shared")
    b = post_need(two.organization, need_data(place), two, idempotency_key="shared")
    assert a.created and b.created and a.obj.id != b.obj.id


def test_the_same_key_with_other_content_is_refused_naming_the_first(app):
    user = make_user(Role.ORGANIZER)
    place = make_place()
    first = post_need(user.organization, need_data(place), user, idempotency_key="k")
    for change in ({"quantity": 3}, {"title": "Another"}, {"place_id": make_place().id}):
        with pytest.raises(KeyReused) as refused:
            post_need(user.organization, need_data(place, **change), user, idempotency_key="k")
        assert refusal_status(refused.value) == 409 and refused.value.existing_id == first.obj.id
        assert "already used for a different need" in refused.value.message
    assert count(Need) == 1


def test_a_repeat_is_compared_with_what_the_first_sent_not_with_later_edits(app):
    """A retry that arrives after the need (or offer) was edited is still the same request."""
    user, donor = make_user(Role.ORGANIZER), make_user(Role.DONOR)
    place = make_place()
    need = post_need(user.organization, need_data(place), user, idempotency_key="k").obj
    update_need(need, {"quantity": 40, "title": "Edited since"}, user)
    again = post_need(user.organization, need_data(place), user, idempotency_key="k")
    assert not again.created and again.obj.id == need.id and again.obj.quantity == 40
    with pytest.raises(KeyReused):  # what the row holds now is not what the key sent
        post_need(
            user.organization,
            need_data(place, quantity=40, title="Edited since"),
            user,
            idempotency_key="k",
        )
    offer = post_offer(donor.organization, offer_data(place), donor, idempotency_key="o").obj
    update_offer(offer, {"quantity": 7}, donor)
    again = post_offer(donor.organization, offer_data(place), donor, idempotency_key="o")
    assert not again.created and again.obj.id == offer.id
    assert count(Need) == 1 and count(Offer) == 1


@pytest.mark.parametrize("key", ["", "   ", "x" * 129, "tab\there", 42])
def test_a_malformed_key_is_refused(app, key):
    user = make_user(Role.ORGANIZER)
    with pytest.raises(Refusal) as refused:
        post_need(user.organization, need_data(make_place()), user, idempotency_key=key)
    assert refusal_status(refused.value) == 422 and "idempotency_key" in refused.value.fields
    assert count(Need) == 0


def test_the_same_key_posts_an_offer_once(app):
    user = make_user(Role.DONOR)
    place = make_place()
    first = post_offer(user.organization, offer_data(place), user, idempotency_key="o-1")
    again = post_offer(user.organization, offer_data(place), user, idempotency_key="o-1")
    assert first.created and not again.created and again.obj.id == first.obj.id
    with pytest.raises(KeyReused) as refused:
        post_offer(user.organization, offer_data(place, quantity=5), user, idempotency_key="o-1")
    assert "already used for a different offer" in refused.value.message
    assert post_offer(user.organization, offer_data(place), user, idempotency_key="o-2").created
    assert count(Offer) == 2


# --- the pages -----------------------------------------------------------------------------


def test_a_need_form_sent_twice_posts_once_and_leads_to_it(app, client, login_as):
    place = signed_in(login_as)
    token = token_in(client.get("/needs/new").get_data(as_text=True))
    data = form_data(place, idempotency_key=token)

    first = client.post("/needs/new", data=data)
    assert first.status_code == 302, first.get_data(as_text=True)
    need = db.session.scalar(select(Need))
    assert need.idempotency_key == token
    assert "Your need is posted." in flashes(client.get(first.headers["Location"]).text)

    again = client.post("/needs/new", data=data)  # a double click, or a retry after a timeout
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert "already sent" in flashes(client.get(again.headers["Location"]).text)
    assert count(Need) == 1

    fresh = token_in(client.get("/needs/new").get_data(as_text=True))
    assert fresh != token  # a new form is a new need
    assert client.post("/needs/new", data={**data, "idempotency_key": fresh}).status_code == 302
    assert count(Need) == 2


def test_the_token_survives_an_error_and_the_fixed_form_still_posts_once(app, client, login_as):
    place = signed_in(login_as)
    token = token_in(client.get("/needs/new").get_data(as_text=True))

    wrong = client.post("/needs/new", data=form_data(place, quantity="0", idempotency_key=token))
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 200 and "more than zero" in field_error(html, "quantity")
    assert token_in(html) == token and "data-draft-echo" in html
    assert "Call Oksana at the school gate" in html  # what was typed is kept

    fixed = form_data(place, idempotency_key=token)
    assert client.post("/needs/new", data=fixed).status_code == 302
    assert client.post("/needs/new", data=fixed).status_code == 302
    assert count(Need) == 1


def test_a_form_changed_after_it_was_sent_leads_to_what_it_posted(app, client, login_as):
    place = signed_in(login_as)
    data = form_data(place, idempotency_key="form-token-1")
    first = client.post("/needs/new", data=data)
    changed = client.post("/needs/new", data={**data, "quantity": "41"})
    assert changed.status_code == 302 and changed.headers["Location"] == first.headers["Location"]
    page = client.get(changed.headers["Location"]).text
    assert "flash-warn" in page and "were not saved" in flashes(page)
    assert count(Need) == 1 and db.session.scalar(select(Need.quantity)) == 40


def test_a_malformed_token_is_replaced_and_the_form_kept(app, client, login_as):
    place = signed_in(login_as)
    response = client.post("/needs/new", data=form_data(place, idempotency_key="x" * 500))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and count(Need) == 0
    assert "Idempotency-Key" in html and len(token_in(html)) < 100  # a new, valid token
    assert client.post("/needs/new", data=form_data(place, idempotency_key=token_in(html)))
    assert count(Need) == 1


def test_an_offer_form_sent_twice_posts_once(app, client, login_as):
    place = signed_in(login_as, Role.DONOR, "Lvivtest")
    token = token_in(client.get("/offers/new").get_data(as_text=True))
    data = offer_form_data(place, idempotency_key=token)
    first, again = client.post("/offers/new", data=data), client.post("/offers/new", data=data)
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert "already sent" in flashes(client.get(again.headers["Location"]).text)
    changed = client.post("/offers/new", data={**data, "quantity": "7"})
    assert changed.headers["Location"] == first.headers["Location"]
    assert count(Offer) == 1


def test_forms_carry_what_the_drafts_script_needs(app, client, login_as):
    user = make_user(Role.ORGANIZER, language="en")
    place = make_place(unique("Zorianka"))
    other = make_user(Role.ORGANIZER, org=user.organization)
    mine = post_need(user.organization, need_data(place), user, idempotency_key="mine-1").obj
    post_need(user.organization, need_data(place), other, idempotency_key="theirs-1")
    db.session.commit()
    login_as(user)

    new = client.get("/needs/new").get_data(as_text=True)
    assert f'data-draft="{user.id}:need:new"' in new and "js/drafts.js" in new
    posted = re.search(r"data-draft-posted='([^']*)'", new).group(1)
    assert f'"mine-1": ["/needs/{mine.id}", "Generator for the field kitchen"]' in posted
    assert "theirs-1" not in posted  # only what this user posted
    assert "data-draft-echo" not in new

    edit = client.get(f"/needs/{mine.id}/edit").get_data(as_text=True)
    assert f'data-draft="{user.id}:need:{mine.id}"' in edit
    assert 'name="idempotency_key"' not in edit and "data-draft-posted" not in edit


def test_the_claim_form_keeps_a_draft_too(app, client, login_as):
    owner = make_user(Role.ORGANIZER)
    need = make_need(owner.organization, owner)
    donor = make_user(Role.DONOR, language="en")
    db.session.commit()
    login_as(donor)
    page = client.get(f"/needs/{need.id}/claim").get_data(as_text=True)
    assert f'data-draft="{donor.id}:claim:{need.id}"' in page and "js/drafts.js" in page
    assert 'name="idempotency_key"' in page


def test_an_error_keeps_the_chosen_place(app, client, login_as):
    organizer = make_user(Role.ORGANIZER, language="en")
    place = make_place(unique("Zorianka"))
    db.session.commit()
    login_as(organizer)
    wrong = client.post("/needs/new", data=form_data(place, title=""))  # place chosen by id
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 200 and "required" in field_error(html, "title")
    assert f'value="{place.id}"' in html and place.name in html


def test_a_claim_error_keeps_the_chosen_offer_and_the_token(app, client, login_as):
    owner = make_user(Role.ORGANIZER)
    need = make_need(owner.organization, owner, quantity=10)
    donor = make_user(Role.DONOR, language="en")
    offer = make_offer(donor.organization, donor, title="Our stock of CAT", quantity=50)
    db.session.commit()
    login_as(donor)
    page = client.get(f"/needs/{need.id}/claim").get_data(as_text=True)
    key = token_in(page)
    data = {"quantity": "11", "offer": str(offer.id), "idempotency_key": key}
    refused = client.post(f"/needs/{need.id}/claim", data=data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and 'value="11"' in html and "data-draft-echo" in html
    assert re.search(
        rf'<option selected value="{offer.id}"|<option value="{offer.id}" selected', html
    )
    assert key in html  # sent again after fixing, it still claims once


# --- the API -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, path, data, model",
    [(Role.ORGANIZER, "/needs", need_data, Need), (Role.DONOR, "/offers", offer_data, Offer)],
    ids=["need", "offer"],
)
def test_api_idempotency_key_posts_once(app, api_client, role, path, data, model):
    place = make_place()
    api = api_client(make_user(role))
    headers = {"Idempotency-Key": "3f0c-retry"}
    created = api.post(path, json=data(place), headers=headers)
    again = api.post(path, json=data(place), headers=headers)
    assert (created.status_code, again.status_code) == (201, 200), again.get_json()
    assert again.get_json()["id"] == created.get_json()["id"]

    changed = api.post(path, json=data(place, quantity=1), headers=headers)
    assert changed.status_code == 409
    error = changed.get_json()["error"]
    assert error["code"] == "conflict" and "Idempotency-Key" in error["fields"]["idempotency_key"]

    bad = api.post(path, json=data(place), headers={"Idempotency-Key": "k" * 200})
    assert bad.status_code == 422 and "idempotency_key" in bad.get_json()["error"]["fields"]
    assert api.post(path, json=data(place)).status_code == 201  # no key: no check
    assert count(model) == 2


def test_the_openapi_document_names_the_repeat_answer(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/needs", "/api/v1/offers"):
        post = spec["paths"][path]["post"]
        assert {"200", "201"} <= set(post["responses"]) and "Idempotency-Key" in post["description"]


# --- the place box without JavaScript ------------------------------------------------------


def test_without_js_a_typed_place_name_is_resolved(app, client, login_as):
    place = signed_in(login_as, Role.DONOR, "Lvivtest")
    response = client.post("/offers/new", data=offer_form_data(place, place_id=""))
    assert response.status_code == 302
    assert db.session.scalar(select(Offer.place_id)) == place.id


def test_without_js_a_retyped_place_wins_over_the_id_left_in_the_page(app, client, login_as):
    user = make_user(Role.ORGANIZER, language="en")
    before, after = make_place(unique("Zorianka")), make_place(unique("Vyshneve"), lat=48.7)
    need = make_need(user.organization, user, place=before)
    db.session.commit()
    login_as(user)
    # The edit form drew the hidden place_id of the need's place; no script cleared it.
    data = form_data(before, place_name=after.name, place_id=str(before.id), needed_by="")
    assert client.post(f"/needs/{need.id}/edit", data=data).status_code == 302
    db.session.refresh(need)
    assert need.place_id == after.id

    # A region that contradicts the id left behind: the text wins too.
    twin = make_place(after.name, oblast="Sumy Oblast", lat=50.9)
    db.session.commit()
    data.update(place_name=f"{after.name}, Sumy", place_id=str(after.id))
    assert client.post(f"/needs/{need.id}/edit", data=data).status_code == 302
    db.session.refresh(need)
    assert need.place_id == twin.id

    # The box as the server (or the autocomplete) wrote it keeps its id.
    same = client.get(f"/needs/{need.id}/edit").get_data(as_text=True)
    label = re.search(r'name="place_name"[^>]*value="([^"]*)"', same) or re.search(
        r'value="([^"]*)"[^>]*name="place_name"', same
    )
    data.update(place_name=label.group(1), place_id=str(twin.id), quantity="45")
    assert client.post(f"/needs/{need.id}/edit", data=data).status_code == 302
    db.session.refresh(need)
    assert (need.place_id, need.quantity) == (twin.id, 45)


def test_without_js_a_choice_among_places_fitting_a_misspelt_name_is_kept(app, client, login_as):
    user = make_user(Role.ORGANIZER, language="en")
    name = unique("Novoselivka")
    first = make_place(name, oblast="Kharkiv Oblast", raion="Izium Raion")
    second = make_place(name, oblast="Donetsk Oblast", raion="Kramatorsk Raion", lat=48.7)
    db.session.commit()
    login_as(user)
    typo = name[:-2] + name[-1] + name[-2]  # two letters swapped
    asked = client.post("/needs/new", data=form_data(first, place_name=typo, place_id=""))
    html = asked.get_data(as_text=True)
    assert "which one?" in html and f'value="{second.id}"' in html
    # The radio button chosen; the box still holds the misspelt name.
    chosen = client.post(
        "/needs/new", data=form_data(first, place_name=typo, place_id=str(second.id))
    )
    assert chosen.status_code == 302, chosen.get_data(as_text=True)
    assert db.session.scalar(select(Need.place_id)) == second.id


def test_without_js_the_list_filter_follows_the_typed_place(app, client, login_as):
    user = make_user(Role.ORGANIZER, language="en")
    old, new = make_place(unique("Centrtest")), make_place(unique("Fartest"), lat=51.0)
    db.session.commit()
    login_as(user)
    page = client.get("/needs", query_string={"near_name": new.name, "near": str(old.id)})
    assert f"distances from {new.name}" in page.get_data(as_text=True)
    linked = client.get("/needs", query_string={"near": str(old.id)})  # a link: the id alone
    assert f"distances from {old.name}" in linked.get_data(as_text=True)
