"""The world of the privacy table (tests/privacy_table.py) in the database, and one viewer's
requests: groups, collectives, needs and offers from the factories, with planted exact points,
delivery notes, contacts and names; the matches made through the API."""

from __future__ import annotations

import gzip
import io
import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import brotli
from flask import current_app
from sqlalchemy import select

from aidmatch.conversations.operations import write_on_offer
from aidmatch.extensions import db
from aidmatch.jobs.queue import drain
from aidmatch.matches.models import Match
from aidmatch.needs.models import Need
from aidmatch.notify.models import Delivery
from aidmatch.notify.outbox import tell
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import PASSWORD, make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place
from tests.privacy_table import (
    CONVERSATION_OFFER,
    FUNDRAISER,
    MATCHES,
    NEEDS,
    OFFERS,
    ORGS,
    PLEDGES,
    RECURRING_OFFER,
    ROUTES,
    STATUSES,
    VIEWERS,
    VOUCHES,
    Viewer,
)

# Exact points with digits found nowhere else; each offer ~30 km from its need, radius 60 km,
# the four pairs hundreds of km apart (a matching run pairs exactly N_s with O_s).
NEED_POINTS = {
    "N_pending": (49.937261, 36.284517),
    "N_confirmed": (47.831742, 35.163928),
    "N_shipped": (50.912634, 34.817153),
    "N_delivered": (46.973815, 31.994362),
    "NS": (48.738129, 37.584316),
    "NU": (51.497318, 31.289473),
    "NV": (49.718263, 36.841597),
    "NVS": (49.361847, 36.517293),
}
OFFER_POINTS = {
    "O_pending": (50.142813, 36.031462),
    "O_confirmed": (48.031327, 34.871249),
    "O_shipped": (51.113472, 34.521386),
    "O_delivered": (47.176241, 31.701423),
    "O_free": (49.842137, 24.031728),
    "O_u": (48.464312, 35.046281),
}
# The encodings the browser-like probe accepts, and how it reads them.
DECODERS = {"br": brotli.decompress, "gzip": gzip.decompress}
NEAR = (50.45, 30.52)  # the place lists measure distances from (?near=)
# G's payment details (a valid IBAN, a card passing Luhn, a link), planted: found anywhere in
# a response, they are shown.
PAYMENT = {
    "iban": "UA213223130000026007233566001",
    "card": "4111111111111111",
    "link": "https://pay.example.org/jar/ZetaQuill",
}
PAYMENT_TOKENS = tuple(PAYMENT.values())


def name_of(org: str) -> str:
    """An organization's planted name (no name is a part of another)."""
    return f"Org {org} Zeta"


def contact_of(org: str) -> str:
    """An organization's planted contact."""
    return f"CONTACT-{org}-call-us"


def note_of(need: str) -> str:
    """A need's planted delivery note."""
    return f"NOTE-{need}-behind-the-gate"


def title_of(key: str) -> str:
    """A need's or an offer's title (how lists and exports are searched for it)."""
    return f"Title {key} Kilo"


def body_of(key: str) -> str:
    """The planted message of a match's or an offer's conversation."""
    return f"Parley {key} quietly"


EXACT_DECIMALS = (4, 5, 6)  # ~11 m, ~1 m, ~0.1 m: each far finer than the ~10 km grid


def point_forms(lat: float, lon: float) -> set[str]:
    """Each coordinate of the exact point as a page may print it: 4, 5 or 6 decimals, rounded
    or cut, with a decimal point (they are turned into commas as well by shows_point)."""
    forms = set()
    for value in (lat, lon):
        exact = Decimal(repr(value))
        for places in EXACT_DECIMALS:
            step = Decimal(1).scaleb(-places)
            for rounding in (ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_DOWN):
                forms.add(str(abs(exact.quantize(step, rounding=rounding))))
    return forms


def point_pattern(lat: float, lon: float) -> re.Pattern:
    """A coordinate of the exact point standing as a number of its own in a text: with a
    decimal point or comma, not inside a longer number (trailing zeros aside)."""
    alternatives = sorted(
        re.escape(whole) + "[.,]" + re.escape(fraction)
        for whole, fraction in (form.split(".") for form in point_forms(lat, lon))
    )
    return re.compile(r"(?<!\d)(?:" + "|".join(alternatives) + r")0*(?!\d)")


def shows_point(text: str, lat: float, lon: float) -> bool:
    """Whether text shows the exact point (the oracle of the privacy table and the e-mail
    tests): a coordinate as point_pattern finds it, never mere digits that an id, a token or a
    coarse point may share."""
    return point_pattern(lat, lon).search(text) is not None


def haversine_km(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance on the mean Earth radius (what lists measure exact distances by)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def number_in(token: str, text: str) -> bool:
    """Whether the number token stands in text on its own (not inside a longer number)."""
    return re.search(rf"(?<![\d.]){re.escape(token)}(?!\d)", text) is not None


@dataclass
class World:
    """The built world: users by viewer key, database ids by object key, the ?near= place,
    and each match's exact figures (distance, score, closeness part) as staff get them."""

    users: dict[str, object]
    ids: dict[str, int]
    near_id: int
    match_facts: dict[str, dict] = field(default_factory=dict)
    # The receipt link of each match on its way (its slip made), and a photo of each match.
    receipt_tokens: dict[str, str] = field(default_factory=dict)
    fundraiser_slug: str = ""  # D_x's fundraiser (aidmatch/money)


def build_world(app, api_client) -> World:
    """Groups, collectives, needs and offers; four matches made through the API and taken to
    pending, confirmed, shipped and delivered; then two "anywhere" offers."""
    orgs = {
        key: make_org(name_of(key), kind=OrgKind(kind), verified=ok, contact=contact_of(key))
        for key, (kind, ok) in ORGS.items()
    }
    users = {
        # each viewer of an organization is its owner: it may open the profile's edit page
        v.key: None
        if v.role == "anonymous"
        else make_user(Role(v.role), org=orgs.get(v.org), org_role="owner" if v.org else "member")
        for v in VIEWERS
    }
    member = {v.org: users[v.key] for v in VIEWERS if v.org}

    def place(key, lat, lon):
        return make_place(f"Place {key}", lat=round(lat, 2), lon=round(lon, 2))

    ids = {key: org.id for key, org in orgs.items()}
    vouch_for_them(orgs, users)
    for key, (org, sensitive) in NEEDS.items():
        lat, lon = NEED_POINTS[key]
        need = make_need(
            orgs[org], member[org], place=place(key, lat, lon), lat=lat, lon=lon,
            title=title_of(key), delivery_note=note_of(key), sensitive=sensitive, quantity=40,
        )  # fmt: skip
        ids[key] = need.id

    def offer(key, radius, quantity):
        org = OFFERS[key]
        lat, lon = OFFER_POINTS[key]
        ids[key] = make_offer(
            orgs[org], member[org], place=place(key, lat, lon), lat=lat, lon=lon,
            title=title_of(key), quantity=quantity, delivery_radius_km=radius,
        ).id  # fmt: skip

    for s in STATUSES:
        offer(f"O_{s}", 60, 10)
    near = make_place("Near Kyivske", lat=NEAR[0], lon=NEAR[1], oblast="Kyiv")
    db.session.commit()
    staff = api_client(users["coordinator"])
    run = staff.post("/matching/runs", json={"category": "tourniquets"})
    assert run.status_code == 202, run.get_json()
    db.session.rollback()
    drain(current_app)  # the job queue runs it
    run = staff.get(f"/matching/runs/{run.get_json()['id']}")
    assert run.get_json()["proposals"] == 4, run.get_json()
    made = {m["offer_id"]: m for m in staff.get("/matches?per_page=100").get_json()["items"]}
    group = api_client(member["G"])
    for key, (need, offer_key, status) in MATCHES.items():
        match = made[ids[offer_key]]
        assert match["need_id"] == ids[need], (key, match)
        ids[key] = mid = match["id"]
        donor = api_client(member[OFFERS[offer_key]])
        steps = [(donor, "accept", None)]
        if status != "pending":
            steps.append((staff, "approve", None))
        if status in ("shipped", "delivered"):
            steps.append((donor, "ship", {"note": "Sent by van", "tracking": ""}))
        if status == "delivered":
            steps.append((group, "confirm-delivery", {"quantity_received": match["quantity"]}))
        for who, action, body in steps:
            done = who.post(f"/matches/{mid}/{action}", json=body or {})
            assert done.status_code == 200, (key, action, done.get_json())
        assert done.get_json()["status"] == status
    hand_over_to_the_hub(api_client, member, ids, made)
    offer("O_free", None, 100)
    offer("O_u", None, 100)
    db.session.commit()
    repeats = api_client(member[OFFERS[RECURRING_OFFER]]).post(
        f"/offers/{ids[RECURRING_OFFER]}/recurrence", json={"every": "month", "quantity": 100}
    )
    assert repeats.status_code == 201, repeats.get_json()
    tell_both_sides(member, ids)
    world = World(users, ids, near.id)
    for key in MATCHES:  # the stored (exact) figures, as staff get them
        body = staff.get(f"/matches/{ids[key]}").get_json()
        closeness = (body.get("explanation") or {}).get("parts", {}).get("closeness")
        world.match_facts[key] = {
            "distance": f"{body['distance_km']:.1f}",
            "score": repr(body["score"]),
            "closeness": repr(closeness),
        }
        assert body["distance_km"] % 5 and body["score"] and closeness, body
    tell_the_parties(world, member)
    talk(world, member, api_client)
    slips_and_photos(world, users)
    money(world, member, api_client)
    return world


def money(world: World, member: dict, api_client) -> None:
    """The money of the table (PLEDGES, FUNDRAISER) through the API: G's payment details and
    prices, each collective's monthly pledge, one confirmed by a coordinator, what N_confirmed's
    money bought (with a receipt photo, reported weeks ago) and D_x's fundraiser."""
    from datetime import timedelta

    from PIL import Image
    from sqlalchemy import update

    from aidmatch.db import utcnow
    from aidmatch.money.models import SpendingReport

    group, staff = api_client(member["G"]), api_client(world.users["coordinator"])
    done = group.put(f"/orgs/{world.ids['G']}/payment-details", json=PAYMENT)
    assert done.status_code == 200, done.get_json()
    for key, (need, pledger, status) in PLEDGES.items():
        path = f"/needs/{world.ids[need]}"
        done = group.put(f"{path}/cost", json={"amount_minor": 900000, "currency": "UAH"})
        assert done.status_code == 200, done.get_json()
        body = {"amount_minor": 300000, "currency": "UAH", "cadence": "monthly", "months": 3}
        done = api_client(member[pledger]).post(f"{path}/money-pledges", json=body)
        assert done.status_code == 201, done.get_json()
        world.ids[key] = pid = done.get_json()["id"]
        if status == "confirmed":
            assert staff.post(f"/money-pledges/{pid}/confirm", json={}).status_code == 200
    jpeg = io.BytesIO()
    Image.new("RGB", (40, 30)).save(jpeg, "JPEG")
    done = group.post(
        f"/needs/{world.ids[FUNDRAISER[1]]}/spending",
        data={"amount_minor": "250000", "currency": "UAH", "items": "Fuel Zeta-litres",
              "photo": (io.BytesIO(jpeg.getvalue()), "receipt.jpg")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert done.status_code == 201, done.get_json()
    world.ids["money_receipt"] = done.get_json()["spending"][0]["id"]
    weeks_ago = utcnow() - timedelta(days=40)
    db.session.execute(
        update(SpendingReport).values(created_at=weeks_ago, spent_on=weeks_ago.date())
    )
    db.session.commit()
    done = api_client(member[FUNDRAISER[0]]).post(
        "/fundraisers", json={"title": "Zeta drive", "need_ids": [world.ids[FUNDRAISER[1]]]}
    )
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["bought"], "the purchase is published on the fundraiser"
    world.fundraiser_slug = done.get_json()["slug"]


def vouch_for_them(orgs: dict, users: dict) -> None:
    """The vouches of the table (VOUCHES), through the verb: an owner of each voucher vouches
    for the group; all of them are based in one oblast, so the group is vouched for."""
    from aidmatch.orgs.vouches import is_vouched, vouch

    for vouched, vouchers in VOUCHES.items():
        for key in (vouched, *vouchers):
            orgs[key].place = make_place(f"Home {key}", lat=49.99, lon=36.23)
        for key in vouchers:
            owner = make_user(Role.DONOR, org=orgs[key], org_role="owner")
            vouch(orgs[key], orgs[vouched], owner, f"Known from the road ({key})")
        assert is_vouched(orgs[vouched])


def slips_and_photos(world: World, users: dict) -> None:
    """The slip (receipt link) of each confirmed or shipped match, and a photo of each match."""
    from PIL import Image

    from aidmatch.matches.models import Match
    from aidmatch.photos.models import PhotoPurpose
    from aidmatch.photos.operations import add_photo
    from aidmatch.receipts.operations import OPEN, link_token, make_link

    staff = users["coordinator"]
    for key in MATCHES:
        match = db.session.get(Match, world.ids[key])
        if match.status in OPEN:
            world.receipt_tokens[key] = link_token(make_link(match, staff))
        jpeg = io.BytesIO()
        Image.new("RGB", (40, 30)).save(jpeg, "JPEG")
        world.ids[f"photo_{key}"] = add_photo(
            match, jpeg.getvalue(), PhotoPurpose.DELIVERY, staff
        ).id
    db.session.commit()


def hand_over_to_the_hub(api_client, member: dict, ids: dict, made: dict) -> None:
    """The routes of the table (ROUTES), through the API: each donor hands its shipped match
    over to the hub, whose confirmation is still to come (the leg on its way)."""
    for key, (sender, hub) in ROUTES.items():
        quantity = made[ids[MATCHES[key][1]]]["quantity"]
        leg = api_client(member[sender]).post(
            f"/matches/{ids[key]}/legs", json={"to_org_id": ids[hub], "quantity_sent": quantity}
        )
        assert leg.status_code == 201, leg.get_json()


def talk(world: World, member: dict, api_client) -> None:
    """The group writes on each match through the API; G asks O_free's collective about it."""
    group = api_client(member["G"])
    for key in MATCHES:
        path = f"/matches/{world.ids[key]}/messages"
        written = group.post(path, json={"body": body_of(key)})
        assert written.status_code == 201, (key, written.get_json())
    offer_key, asking = CONVERSATION_OFFER
    offer = db.session.get(Offer, world.ids[offer_key])
    write_on_offer(offer, member[asking], body_of(offer_key))
    db.session.commit()


def tell_the_parties(world: World, member: dict) -> None:
    """Notifications about the sensitive need to its group and the staff, and about each
    match to both its sides, naming what a notification may: category, quantity, place."""

    def about(need_key: str) -> dict:
        need = db.session.get(Need, world.ids[need_key])
        return {
            "category_id": need.category_id,
            "quantity": need.quantity,
            "unit": need.category.unit,
            "place_id": need.place_id,
            "place_level": "settlement",
            "oblast": need.place.oblast,
        }

    staff = [world.users["coordinator"], world.users["admin"]]
    sensitive = db.session.get(Need, world.ids["NS"])
    tell([member["G"], *staff], "reminder_unpledged", params=about("NS"), need=sensitive)
    tell([member["G"], *staff], "still_needed", params=about("NS"), need=sensitive)
    for key, (need_key, offer_key, _status) in MATCHES.items():
        match = db.session.get(Match, world.ids[key])
        sides = [member["G"], member[OFFERS[offer_key]]]
        tell(sides, "match_confirmed", params=about(need_key), match=match, need=match.need)
    db.session.commit()


def tell_both_sides(member: dict, ids: dict) -> None:
    """A reminder about each match to both sides (an action: e-mailed by default) to the app's
    mail server, down in the privacy test: the failures are on the admins' deliveries page."""
    for key, (need_key, offer_key, _status) in MATCHES.items():
        need = db.session.get(Need, ids[need_key])
        params = {
            "category_id": need.category_id,
            "quantity": 10,
            "place_id": need.place_id,
            "place_level": "settlement",
            "oblast": need.place.oblast,
        }
        sides = [member[NEEDS[need_key][0]], member[OFFERS[offer_key]]]
        tell(sides, "reminder_pending", params=params, match=db.session.get(Match, ids[key]))
    db.session.commit()
    drain()
    troubled = db.session.scalars(select(Delivery.last_error).where(Delivery.attempts == 1))
    assert len([e for e in troubled if "unreachable" in e]) >= 2 * len(MATCHES)


class AnonymousApi:
    """The API without a token."""

    def __init__(self, client):
        self.client = client

    def get(self, path):
        return self.client.get(f"/api/v1{path}")

    def post(self, path, json=None):
        return self.client.post(f"/api/v1{path}", json=json)


class Session:
    """One viewer's requests: its pages (logged in) and its API calls (bearer token), each
    URL loaded once. Anonymous visitors get 401 from the API and the login page for every
    page but the transparency page (DESIGN: that page is all they see) and a slip's receipt
    link (whoever holds the paper)."""

    def __init__(self, app, api_client, world: World, viewer: Viewer):
        self.viewer, self.world = viewer, world
        user = world.users[viewer.key]
        self.pages = app.test_client()
        if user is not None:
            login = self.pages.post("/login", data={"email": user.email, "password": PASSWORD})
            assert login.status_code == 302
            self.api_client = api_client(user)
        else:
            self.api_client = AnonymousApi(app.test_client())
        self.cache: dict[tuple[str, str], object] = {}

    def _load(self, kind: str, path: str):
        if (kind, path) not in self.cache:
            if kind == "api":
                response = self.api_client.get(path)
            elif kind == "packed":  # as a browser asks: a kept JSON answer comes in brotli
                response = self.pages.get(path, headers={"Accept-Encoding": "br, gzip"})
                encoding = response.headers.get("Content-Encoding")
                if encoding is not None:  # only what the probe can read is accepted
                    response.set_data(DECODERS[encoding](response.get_data()))
                    del response.headers["Content-Encoding"]
            else:
                response = self.pages.get(path)
            if self.viewer.role == "anonymous":
                allowed = {401} if kind == "api" else {302}
                if path.startswith("/transparency") or path == "/":
                    allowed = {200}  # the home page of a visitor: a welcome, no data
                if path.startswith("/r/"):
                    allowed = {200}  # a receipt link: whoever holds the slip, no account
                if path.startswith(("/f/", "/fundraisers/")):
                    allowed = {200}  # a collective's fundraiser: its supporters, no account
            else:
                allowed = {200, 403, 404}
            if path.startswith("/r/") and path.endswith("/signed"):
                allowed = {200, 302}  # a link not used yet leads back to its form
            assert response.status_code in allowed, (self.viewer.key, path, response.status_code)
            self.cache[(kind, path)] = response
        return self.cache[(kind, path)]

    def api(self, path):
        """GET /api/v1<path> as this viewer."""
        return self._load("api", path)

    def page(self, path):
        """GET a page (or the map feed, an export) as this viewer."""
        return self._load("page", path)

    def packed(self, path):
        """GET the map feed as a browser does (it accepts brotli and gzip), decoded."""
        return self._load("packed", path)

    def api_post(self, path, body):
        """POST to /api/v1<path> as this viewer: a probe that writes nothing (a body every
        verb refuses), answered 401, 403, 404 or 422."""
        key = ("api_post", path)
        if key not in self.cache:
            response = self.api_client.post(path, json=body)
            assert response.status_code in (401, 403, 404, 422), (
                self.viewer.key, path, response.status_code
            )  # fmt: skip
            self.cache[key] = response
        return self.cache[key]
