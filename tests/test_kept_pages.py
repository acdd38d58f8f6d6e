"""Lists kept for the viewer who asked (web/kept.py): the same page again costs no list query,
and is fresh after any committed write, for its viewer alone, with the asker's own CSRF
token, one-time keys and bell, never with a flashed message, for a visitor without an account
only without a query string, and never past the moment a listed match lapses."""

from __future__ import annotations

import gzip
import re
from datetime import timedelta

import brotli
import pytest
import time_machine
from sqlalchemy import create_engine, update

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches.models import Match
from aidmatch.needs.models import Need
from aidmatch.notify.models import Notification
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.web.kept import MAX_SECONDS
from tests.factories import PASSWORD, make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place
from tests.sql_statements import statements
from tests.test_review import propose

pytestmark = pytest.mark.usefixtures("english")

LIST_QUERY = re.compile(r"^\s*SELECT .*\bFROM (needs|matches)\b", re.IGNORECASE | re.DOTALL)


CSRF_FIELD = re.compile(r'(name="csrf_token"[^>]*value=")([^"]+)"')


def without_tokens(page: str) -> str:
    return CSRF_FIELD.sub(r'\1"', page)


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.fixture
def cast(app):
    """A verified group with a need, a donor with an offer and an engine proposal waiting for
    its answer, a coordinator."""
    place = make_place("Keptivka", lat=49.9, lon=36.3, oblast="Kharkiv Oblast")
    group = make_org("Group Kept", verified=True)
    organizer = make_user(Role.ORGANIZER, org=group, language="en")
    donor_org = make_org("Donor Kept", kind=OrgKind.DONOR_COLLECTIVE)
    donor = make_user(Role.DONOR, org=donor_org, language="en")
    offer = make_offer(donor_org, donor, quantity=1000)
    coordinator = make_user(Role.COORDINATOR, language="en")
    need = make_need(group, organizer, place=place, quantity=10, title="Kept tourniquets")
    roles = {"group_a": group, "kharkiv": place, "donor_org": donor_org, "donor": donor,
             "offer": offer, "coordinator": coordinator}  # fmt: skip
    match = propose(need, roles, 4, claim=False)
    db.session.commit()
    return {**roles, "organizer": organizer, "need": need, "match": match}


def test_a_list_is_kept_until_anything_is_written(cast, client, login_as):
    login_as(cast["donor"])
    first = html(client.get("/needs"))
    assert "Kept tourniquets" in first
    with statements(LIST_QUERY) as sent:
        again = html(client.get("/needs"))
    assert sent == []  # kept: not drawn again
    assert without_tokens(again) == without_tokens(first)  # a token is signed with the second
    make_need(cast["group_a"], cast["organizer"], place=cast["kharkiv"], title="Fresh stretchers")
    db.session.commit()
    assert "Fresh stretchers" in html(client.get("/needs"))


def test_a_kept_answer_is_held_in_the_process_under_the_shared_generation(
    cast, client, login_as, api_client
):
    """Asked again in the same process, a kept page and a kept JSON list come from its memory
    (the shared cache's copies are gone here); a new generation, as a write in any other
    process makes it, hides them."""
    from aidmatch.cache import bump
    from aidmatch.extensions import cache

    login_as(cast["donor"])
    api = api_client(cast["donor"])
    first = html(client.get("/needs"))
    listed = api.get("/needs").get_json()
    kept = [key for key in cache.cache._cache if key.startswith(("page2:", "json3:"))]
    assert len(kept) == 2
    for key in kept:
        cache.delete(key)
    with statements(LIST_QUERY) as sent:
        again = html(client.get("/needs"))
        assert api.get("/needs").get_json() == listed
    assert sent == []
    assert without_tokens(again) == without_tokens(first)
    # Another process's commit (an engine this process does not watch): until it renews the
    # generation, the answers held here are what the shared cache would give; after, fresh.
    need_id = cast["need"].id
    db.session.rollback()  # the test's own read: no snapshot older than the write below
    other = create_engine(db.engine.url.render_as_string(hide_password=False))
    with other.begin() as conn:
        conn.execute(update(Need).where(Need.id == need_id).values(title="Renamed kit"))
    other.dispose()
    assert "Renamed kit" not in html(client.get("/needs"))
    bump()
    assert "Renamed kit" in html(client.get("/needs"))
    assert [n["title"] for n in api.get("/needs").get_json()["items"]] == ["Renamed kit"]


def test_the_api_list_is_kept_with_its_etag_and_fresh_after_a_write(cast, client, api_client):
    api = api_client(cast["donor"])
    first = api.get("/needs")
    assert first.status_code == 200 and first.headers["ETag"]
    with statements(LIST_QUERY) as sent:
        again = api.get("/needs")
    assert sent == [] and again.get_data() == first.get_data()
    assert again.headers["ETag"] == first.headers["ETag"]
    asked = {**api.headers, "If-None-Match": first.headers["ETag"]}
    assert client.get("/api/v1/needs", headers=asked).status_code == 304
    make_need(cast["group_a"], cast["organizer"], place=cast["kharkiv"], title="Fresh stretchers")
    db.session.commit()
    titles = [item["title"] for item in api.get("/needs").get_json()["items"]]
    assert "Fresh stretchers" in titles


def test_a_kept_json_answer_is_kept_compressed_for_whoever_accepts_brotli_or_gzip(
    cast, client, api_client, login_as
):
    """An API list and the map's markers are compressed once, when kept, in brotli and in
    gzip: a browser (which accepts both) gets the brotli bytes, a client that takes gzip
    only the gzip ones, each decoding to the plain answer, under an ETag of its own that a
    304 answers; whoever accepts neither gets the plain text. An answer under
    COMPRESS_MIN_SIZE is kept and sent plain."""
    from aidmatch.extensions import cache

    api = api_client(cast["donor"])
    small = api.get("/needs")
    assert len(small.data) < 1024
    browser = {**api.headers, "Accept-Encoding": "gzip, deflate, br, zstd"}
    only_gzip = {**api.headers, "Accept-Encoding": "gzip"}
    assert "Content-Encoding" not in client.get("/api/v1/needs", headers=browser).headers
    for n in range(12):
        make_need(cast["group_a"], cast["organizer"], place=cast["kharkiv"], title=f"Kit {n}")
    db.session.commit()
    plain = api.get("/needs")
    with statements(LIST_QUERY) as sent:
        packed = client.get("/api/v1/needs", headers=browser)
        gzipped = client.get("/api/v1/needs", headers=only_gzip)
    assert sent == []  # the kept answer
    assert packed.status_code == 200 and packed.headers["Content-Encoding"] == "br"
    assert gzipped.status_code == 200 and gzipped.headers["Content-Encoding"] == "gzip"
    assert "accept-encoding" in packed.headers["Vary"].lower()
    assert brotli.decompress(packed.data) == plain.data
    assert gzip.decompress(gzipped.data) == plain.data
    assert len(packed.data) < len(gzipped.data)
    assert packed.get_etag() == (f"{plain.get_etag()[0]}:br", False)
    assert gzipped.get_etag() == (f"{plain.get_etag()[0]}:gzip", False)
    kept = [cache.get(k)[0] for k in cache.cache._cache if k.startswith("json3:api:needs")]
    (entry,) = [value for value in kept if value[0] == plain.data]  # this generation's
    assert entry[1:] == (plain.get_etag()[0], MAX_SECONDS, packed.data, gzipped.data)  # kept
    asked = {**browser, "If-None-Match": packed.headers["ETag"]}
    assert client.get("/api/v1/needs", headers=asked).status_code == 304
    assert client.head("/api/v1/needs", headers=asked).status_code == 304
    asked_gzip = {**only_gzip, "If-None-Match": gzipped.headers["ETag"]}
    assert client.get("/api/v1/needs", headers=asked_gzip).status_code == 304
    other = client.get(
        "/api/v1/needs", headers={**only_gzip, "If-None-Match": packed.headers["ETag"]}
    )
    assert other.status_code == 200 and other.data == gzipped.data  # the brotli one's ETag
    head = client.head("/api/v1/needs", headers=browser)
    assert head.headers["Content-Encoding"] == "br"
    assert head.headers["Content-Length"] == str(len(packed.data))
    assert api.get("/needs").data == plain.data  # no Accept-Encoding: plain
    preferred = {**api.headers, "Accept-Encoding": "br;q=0.5, gzip"}  # the client's q first
    assert client.get("/api/v1/needs", headers=preferred).headers["Content-Encoding"] == "gzip"
    neither = {**api.headers, "Accept-Encoding": "zstd, br;q=0, gzip;q=0"}
    assert client.get("/api/v1/needs", headers=neither).headers["Content-Encoding"] == "zstd"

    login_as(cast["donor"])
    markers = client.get("/map/data.json")
    assert "Content-Encoding" not in markers.headers
    packed = client.get("/map/data.json", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(packed.data) == markers.data
    gzipped = client.get("/map/data.json", headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gzipped.data) == markers.data


def test_a_kept_list_is_never_shown_to_another_viewer(cast, app, api_client):
    """The group's own need carries its delivery note to the group; a donor asking the same
    URL right after gets its own answer, without it."""
    need = cast["need"]
    need.delivery_note = "Gate 3, ask for Oksana"
    db.session.commit()
    group_view = api_client(cast["organizer"]).get("/needs").get_json()["items"]
    assert [n.get("delivery_note") for n in group_view] == ["Gate 3, ask for Oksana"]
    donor_api = api_client(cast["donor"])
    donor_view = donor_api.get("/needs").get_json()["items"]
    assert [n["id"] for n in donor_view] == [need.id]
    assert "delivery_note" not in donor_view[0]
    assert "Oksana" not in donor_api.get("/needs").get_data(as_text=True)


def test_the_bell_is_counted_on_a_kept_page(cast, client, login_as):
    login_as(cast["donor"])
    assert "Notifications, none unread" in html(client.get("/needs"))
    db.session.add(Notification(user_id=cast["donor"].id, kind="match_claimed"))
    db.session.commit()  # notifications make no new generation (cache.UNTRACKED)
    assert "1 unread notification" in html(client.get("/needs"))


def test_a_flashed_message_is_shown_once_and_never_kept(cast, client, login_as):
    login_as(cast["donor"])
    html(client.get("/needs"))
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Thank you: the need is posted.")]
    assert "Thank you: the need is posted." in html(client.get("/needs"))
    assert "Thank you: the need is posted." not in html(client.get("/needs"))


def test_a_kept_page_carries_the_askers_own_csrf_token(database_url):
    """Two sessions of the same donor: the second gets the page kept for the first, with its
    own token in every form, and each session's answer is taken with its own token only."""
    from tests.conftest import make_test_app

    csrf_app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    with csrf_app.app_context():
        place = make_place("Tokenivka", lat=49.9, lon=36.3, oblast="Kharkiv Oblast")
        group = make_org("Group Token", verified=True)
        donor_org = make_org("Donor Token", kind=OrgKind.DONOR_COLLECTIVE)
        donor = make_user(Role.DONOR, org=donor_org, language="en")
        roles = {"offer": make_offer(donor_org, donor, quantity=100), "donor_org": donor_org}
        needs = [make_need(group, None, place=place, quantity=10) for _ in range(2)]
        ids = [propose(need, roles, 3, claim=False).id for need in needs]
        db.session.commit()
        clients = [csrf_app.test_client() for _ in range(2)]
        for client in clients:  # logging in writes (last_login_at): both before any page
            login = html(client.get("/login"))
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
            data = {"csrf_token": token, "email": donor.email, "password": PASSWORD}
            assert client.post("/login", data=data).status_code == 302
        first = html(clients[0].get("/matches"))
        with statements(LIST_QUERY) as sent:
            second = html(clients[1].get("/matches"))
        assert sent == []  # the page kept for the first session
        tokens = [
            set(re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"', page))
            for page in (first, second)
        ]
        assert [len(found) for found in tokens] == [1, 1]  # one token, in every form
        assert tokens[0] != tokens[1]
        assert "\x00" not in first + second
        for client, own, other, match_id in zip(
            clients, tokens, reversed(tokens), ids, strict=True
        ):
            refused = client.post(f"/matches/{match_id}/decline", data={"csrf_token": [*other][0]})
            assert refused.status_code == 400  # the other session's token is no good here
            taken = client.post(f"/matches/{match_id}/decline", data={"csrf_token": [*own][0]})
            assert taken.status_code == 302
        assert [db.session.get(Match, i).status for i in ids] == ["declined", "declined"]
        db.session.remove()
        db.engine.dispose()


def test_each_answer_of_a_kept_page_has_its_own_one_time_keys(cast, client, login_as):
    """A shipped match's receipt form on the group's /matches: two answers of the same kept
    page never share the key that makes a receipt count once."""
    match = cast["match"]
    db.session.execute(update(Match).where(Match.id == match.id).values(status="shipped"))
    db.session.commit()
    login_as(cast["organizer"])
    first = html(client.get("/matches"))
    with statements(LIST_QUERY) as sent:
        second = html(client.get("/matches"))
    assert sent == []
    keys = [
        re.findall(r'name="idempotency_key" type="hidden" value="([^"]+)"', p)
        for p in (first, second)
    ]
    assert [len(found) for found in keys] == [1, 1], keys
    assert keys[0] != keys[1]
    assert "\x00" not in first + second


def test_a_visitor_without_an_account_is_kept_a_page_per_language_and_no_query(
    app, client, login_as
):
    """Visitors without an account share one kept /transparency per language, the same page
    for each (its language switch needs no CSRF token: auth tests); a query string (anyone
    can make up any number of them) is drawn and never kept; someone logged in gets a page
    of their own."""
    from aidmatch.extensions import cache

    def kept() -> list[str]:
        return [key for key in cache.cache._cache if key.startswith("page2:transparency:")]

    first = html(client.get("/transparency"))
    assert len(kept()) == 1
    for key in [key for key in cache.cache._cache if key.startswith("transparency:")]:
        cache.delete(key)  # the page's figures: drawn again they would be read again
    other = app.test_client()
    with statements(re.compile(".")) as sent:
        second = html(other.get("/transparency"))
    assert sent == []  # the whole page, kept
    assert len(kept()) == 1
    assert second == first
    assert CSRF_FIELD.findall(first) == []
    assert "\x00" not in first
    for query in ("?x=1", "?x=2", "?page=2"):
        html(client.get(f"/transparency{query}"))
    assert len(kept()) == 1
    ukrainian = html(app.test_client().get("/transparency", headers={"Accept-Language": "uk"}))
    assert '<html lang="uk"' in ukrainian
    assert len(kept()) == 2
    login_as(make_user(Role.DONOR, language="en"))
    own = html(client.get("/transparency"))
    assert "Notifications, none unread" in own and 'action="/logout"' in own
    assert 'action="/logout"' not in html(other.get("/transparency"))


def test_kept_lists_of_matches_hold_only_until_a_match_lapses(cast, client, switch, api_client):
    """No write happens when a pending match lapses: the kept /matches page, the API's list and
    the review queue are drawn again once its expires_at has passed."""
    match = cast["match"]
    soon = utcnow() + timedelta(seconds=30)
    db.session.execute(update(Match).where(Match.id == match.id).values(expires_at=soon))
    db.session.commit()
    accept = f'action="/matches/{match.id}/accept"'
    switch(cast["donor"])
    api = api_client(cast["donor"])
    assert accept in html(client.get("/matches"))
    assert [m["status"] for m in api.get("/matches").get_json()["items"]] == ["pending"]
    with time_machine.travel(soon + timedelta(seconds=1), tick=False):
        assert accept not in html(client.get("/matches"))
        assert [m["status"] for m in api.get("/matches").get_json()["items"]] == ["expired"]
    switch(cast["coordinator"])
    queue = html(client.get("/review"))
    assert f'<tr id="m{match.id}"' in queue
    with time_machine.travel(soon + timedelta(seconds=1), tick=False):
        assert f'<tr id="m{match.id}"' not in html(client.get("/review"))
