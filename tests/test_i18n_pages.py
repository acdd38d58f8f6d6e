"""The main pages read fully in Ukrainian and in German: places and oblasts by their names in
the language, dates and numbers as the language writes them, no English words left over."""

from __future__ import annotations

import html.parser
import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.runs.job import run_matching
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place

NEEDED_BY = date(2099, 3, 14)
POSTED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
# A Monday: the public ledger dates a delivery by the Monday of its week.
DELIVERED = datetime(2026, 3, 16, 9, 30, tzinfo=UTC)

# What each language must show, and English (or English-ordered) words it must not.
# fmt: off
EXPECTED = {
    "uk": {
        "place": "Зоряне, Харківська область",
        "needed_by": "14 бер. 2099 р.",
        "delivered": "16 бер. 2026 р.",
        "month": "березень 2026",
        "quantity": re.compile("12[\u00a0\u202f]500"),
        "english": [
            "Zoriane", "Kharkiv", "Oblast", "critical", "high", "urgency", "open", "pending",
            "confirmed", "shipped", "delivered", "expired", "days", "day", "waiting", "left",
            "received", "proposed", "pcs", "km", "Needs", "Offers", "Match", "Score",
        ],
    },
    "de": {
        "place": "Zoriane, Oblast Kharkiv",
        "needed_by": "14.03.2099",
        "delivered": "16.03.2026",
        "month": "März 2026",
        "quantity": re.compile(r"12\.500"),
        "english": [
            "Kharkiv Oblast", "critical", "urgency", "pending", "confirmed", "shipped",
            "delivered", "expired", "days", "waiting", "left", "received", "proposed", "pcs",
            "Needs", "Offers", "Match", "Score",
        ],
    },
}
# fmt: on


class VisibleText(html.parser.HTMLParser):
    """The text a reader sees or hears: text nodes and the labelling attributes, no scripts."""

    SPOKEN = ("aria-label", "title", "placeholder", "label", "alt")

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        self.parts += [value for name, value in attrs if name in self.SPOKEN and value]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def visible(page: str) -> str:
    """A page's visible text on one line, every kind of space (no-break, narrow) a plain one."""
    parser = VisibleText()
    parser.feed(page)
    return re.sub(r"\s+", " ", " | ".join(parser.parts))


def english_words(text: str, words: list[str]) -> list[str]:
    """Which of these words (whole words, any case) the text holds."""
    return [w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text, re.I)]


class World:
    """A group with a need in Зоряне (Kharkiv Oblast), two donors with offers, a coordinator;
    one claim delivered, one pending. Everyone reads the given language; what the users typed
    themselves is in that language too (it is shown as typed)."""

    def __init__(self, lang: str):
        words = {
            "uk": ("Турнікети для евакуаційної групи", "Купʼянськ рятує", "Донори Львова"),
            "de": ("Tourniquets für das Evakuierungsteam", "Kupjansk Rettung", "Berliner Hilfe"),
        }[lang]
        place = make_place(
            "Zoriane",
            name_uk="Зоряне",
            lat=49.7,
            lon=37.6,
            oblast="Kharkiv Oblast",
            oblast_uk="Харківська область",
        )
        self.group = make_org(words[1], public_name=True)
        self.organizer = make_user(
            Role.ORGANIZER, org=self.group, language=lang, display_name="Оксана"
        )
        self.need = make_need(
            self.group,
            self.organizer,
            place=place,
            title=words[0],
            description="CAT",
            delivery_note="—",
            quantity=12500,
            urgency="critical",
            needed_by=NEEDED_BY,
        )
        self.need.created_at = POSTED
        offer_place = make_place(
            "Vilne", name_uk="Вільне", lat=50.0, lon=36.3, oblast_uk="Харківська область"
        )
        self.donor_org = make_org(words[2], kind=OrgKind.DONOR_COLLECTIVE)
        self.donor = make_user(Role.DONOR, org=self.donor_org, language=lang, display_name="Марта")
        self.offer = make_offer(
            self.donor_org,
            self.donor,
            place=offer_place,
            title="CAT",
            quantity=20000,
            delivery_radius_km=1500,
            available_until=NEEDED_BY,
        )
        other_org = make_org(words[2] + " 2", kind=OrgKind.DONOR_COLLECTIVE)
        other = make_user(Role.DONOR, org=other_org, language=lang, display_name="Ірина")
        self.other_offer = make_offer(other_org, other, place=offer_place, title="CAT 2")
        self.coordinator = make_user(Role.COORDINATOR, language=lang, display_name="Богдан")
        self.delivered = ops.claim_need(self.need, self.donor, 1500, offer=self.offer)
        ops.approve(self.delivered, self.coordinator)
        ops.ship(self.delivered, self.donor, "—")
        ops.confirm_delivery(self.delivered, self.organizer, 1200)
        self.delivered.delivered_at = DELIVERED
        self.pending = ops.claim_need(self.need, self.donor, 2000, offer=self.offer)
        db.session.commit()


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["uk", "de"])
def test_the_main_pages_read_in_the_language(app, client, switch, lang):
    world = World(lang)
    want = EXPECTED[lang]
    need, offer = world.need.id, world.offer.id
    pages = [
        (world.organizer, "/", []),
        (world.organizer, "/needs", ["place", "needed_by", "quantity"]),
        (world.organizer, f"/needs/{need}", ["place", "needed_by", "quantity"]),
        (world.organizer, "/matches", []),
        (world.organizer, f"/matches/{world.delivered.id}", ["place"]),
        (world.donor, "/offers", ["needed_by"]),
        (world.donor, f"/offers/{offer}", ["needed_by"]),
        (world.donor, f"/needs/{need}/claim", ["place", "quantity"]),
        (world.donor, f"/matches/{world.pending.id}", ["place"]),
        (world.coordinator, "/review", ["place", "quantity"]),
        (world.coordinator, "/transparency", ["delivered", "month"]),
        (world.coordinator, "/transparency/ledger", ["delivered"]),
        (world.coordinator, "/map", []),
    ]
    problems = []
    for user, url, checks in pages:
        switch(user)
        raw = page(client, url)
        assert f'<html lang="{lang}">' in raw, url
        text = visible(raw)
        for check in checks:
            wanted = want[check]
            found = wanted.search(raw) if isinstance(wanted, re.Pattern) else wanted in text
            if not found:
                problems.append(f"{url}: no {check} {wanted!r}")
        leftover = english_words(text, want["english"])
        if leftover:
            problems.append(f"{url}: English words {leftover}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", ["uk", "de"])
def test_candidates_and_their_reasons_read_in_the_language(app, client, switch, lang):
    # A fixed day: the reasons count days ("чекає 285 днів"), and Ukrainian words a count
    # ending in 1 to 4 otherwise ("281 день", "282 дні"), so the words below held only on
    # some days.
    with time_machine.travel(datetime(2026, 12, 12, 12, tzinfo=UTC), tick=False):
        world = World(lang)
        switch(world.organizer)
        text = visible(page(client, f"/needs/{world.need.id}"))
    # The other donor's offer could cover the rest: "Вільне", its distance and the reasons.
    reasons = {
        "uk": ["Вільне", "км", "критична", "чекає", "днів"],
        "de": ["Vilne", "km", "kritisch", "wartet", "Tage"],
    }[lang]
    assert all(word in text for word in reasons), text
    assert not english_words(text, EXPECTED[lang]["english"])


@pytest.mark.parametrize(
    ("lang", "scope"), [("uk", "Харківська область"), ("de", "Oblast Kharkiv")]
)
def test_a_matching_run_page_reads_in_the_language(app, client, switch, lang, scope):
    world = World(lang)
    run = run_matching(world.coordinator, None, "Kharkiv Oblast")
    db.session.commit()
    # The other donor's offer (the first one is already matched to the need): one proposal.
    assert run.proposals == 1
    switch(world.coordinator)
    for url in ("/matching", f"/matching/runs/{run.id}"):
        text = visible(page(client, url))
        assert scope in text, url
        assert "oblast=" not in text and "UTC" not in text  # times in Kyiv time, unsuffixed
        assert not english_words(text, [*EXPECTED[lang]["english"], "needs", "offers"])
    # The proposal waits in the review queue with the engine's reasons, in words.
    text = visible(page(client, "/review"))
    assert not english_words(text, EXPECTED[lang]["english"])


@pytest.mark.parametrize(
    ("lang", "kharkiv", "crimea", "first_three"),
    [
        (
            "uk",
            "Харківська область",
            "Автономна Республіка Крим",
            ["Автономна Республіка Крим", "Вінницька область", "Волинська область"],
        ),
        (
            "de",
            "Oblast Kharkiv",
            "Autonome Republik Krim",
            ["Autonome Republik Krim", "Oblast Cherkasy", "Oblast Chernihiv"],
        ),
    ],
)
def test_oblast_filters_show_the_language_and_send_the_key(
    app, client, login_as, lang, kharkiv, crimea, first_three
):
    login_as(make_user(Role.COORDINATOR, language=lang))
    db.session.commit()
    for url in ("/needs", "/offers", "/map", "/review", "/matching"):
        raw = page(client, url)
        assert f'<option value="Kharkiv Oblast">{kharkiv}</option>' in raw, url
        assert f'<option value="Autonomous Republic of Crimea">{crimea}</option>' in raw, url
        select = re.search(r'<select[^>]* id="oblast".*?</select>', raw, re.S).group(0)
        labels = re.findall(r'<option value="[^"]+">([^<]+)</option>', select)
        assert labels[:3] == first_three, url
    # Ukrainian alphabetical order: І after И and before Й, К.
    if lang == "uk":
        assert labels.index("Запорізька область") < labels.index("Івано-Франківська область")
        assert labels.index("Івано-Франківська область") < labels.index("Київ")


@pytest.mark.parametrize(
    ("lang", "name", "oblast"),
    [("uk", "Харків", "Харківська область"), ("de", "Kharkiv", "Oblast Kharkiv")],
)
def test_place_suggestions_name_places_in_the_language(client, lang, name, oblast):
    response = client.get(
        "/places/search", query_string={"q": "Харків"}, headers={"Accept-Language": lang}
    )
    first = response.get_json()["items"][0]
    assert set(first) == {"id", "name", "name_uk", "oblast", "lat", "lon", "population"}
    assert (first["name"], first["name_uk"], first["oblast"]) == (name, "Харків", oblast)
    # The answer depends on the language: no shared cache may keep it for everyone.
    assert "private" in response.headers["Cache-Control"]
    assert "Accept-Language" in response.headers["Vary"]


def test_the_json_api_stays_language_neutral(app, api_client):
    user = make_user(Role.ORGANIZER, language="uk")
    place = make_place("Zoriane", name_uk="Зоряне", oblast_uk="Харківська область")
    need = make_need(user.organization, user, place=place)
    db.session.commit()
    body = api_client(user).get(f"/needs/{need.id}", headers={"Accept-Language": "uk"}).get_json()
    assert body["place"] == {"id": place.id, "name": "Zoriane", "oblast": "Kharkiv Oblast"}


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("uk", ["Зоряне, Харківська область", "Київ", "Берлін", "Сімферополь, Автономна Республіка Крим"]),
        ("de", ["Zoriane, Oblast Kharkiv", "Kyiv", "Berlin", "Simferopol, Autonome Republik Krim"]),
        ("en", ["Zoriane, Kharkiv Oblast", "Kyiv", "Berlin", "Simferopol, Autonomous Republic of Crimea"]),
    ],
)  # fmt: skip
def test_place_labels(app, lang, expected):
    from aidmatch.places.labels import place_label

    places = [
        {"name": "Zoriane", "name_uk": "Зоряне", "oblast": "Kharkiv Oblast"},  # oblast_uk unknown
        {"name": "Kyiv", "name_uk": "Київ", "oblast": "Kyiv", "oblast_uk": "Київ"},
        {"name": "Berlin", "name_uk": "Берлін", "oblast": None},
        {"name": "Simferopol", "name_uk": "Сімферополь", "oblast": "Autonomous Republic of Crimea"},
    ]
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        assert [place_label(p) for p in places] == expected


@pytest.mark.parametrize(
    ("lang", "not_found", "wrong_method", "csrf"),
    [
        ("uk", "немає сторінки", "не приймає такого запиту", "перевірка CSRF не пройшла"),
        ("de", "keine Seite", "nimmt eine solche Anfrage nicht an", "CSRF-Prüfung"),
    ],
)
def test_error_pages_read_in_the_language(database_url, lang, not_found, wrong_method, csrf):
    from tests.conftest import make_test_app

    app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        for url, method, status, words in (
            ("/nowhere", "get", 404, not_found),
            ("/logout", "get", 405, wrong_method),
            ("/login", "post", 400, csrf),  # no CSRF token: Flask-WTF's reason is English
        ):
            response = getattr(client, method)(url)
            assert response.status_code == status, url
            text = visible(response.get_data(as_text=True))
            assert words in text, (url, text)
            assert not english_words(text, ["The", "token", "missing", "method", "allowed"])
