"""flask seed-demo: a deterministic, realistic demo data set, created once.

About 30 frontline groups in the oblasts along the front, 20 donor and supply collectives in
Ukraine and abroad, one member each, a coordinator and an admin, ~300 needs and ~150 offers.
Everything is drawn from random.Random(SEED) in a fixed order, so every run on an empty
database makes the same set (dates are relative to today). Organizations and users go through
their operations, and needs and offers through create_need and create_offer.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from aidmatch.auth.models import User
from aidmatch.categories.models import Category
from aidmatch.db import utcnow
from aidmatch.demo_data import (
    CONTEXT_BY_TOP,
    CZ_PREFIXES,
    DELIVERY_NOTES,
    DONOR_COLLECTIVES,
    FRONTLINE_GROUPS,
    ITEMS,
    LANGUAGE_BY_COUNTRY,
    NEED_CONTEXT,
    OFFER_CONTEXT,
    OFFER_CONTEXT_BY_TOP,
    PARENT_OFFERS,
    PEOPLE,
    PHONE_FORMATS,
    PL_PREFIXES,
    STREETS,
    UA_OPERATORS,
    OrgSpec,
)
from aidmatch.extensions import db
from aidmatch.needs.models import URGENCY_RANK, Need, NeedStatus, Urgency
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.orgs.models import Organization, OrgKind, org_name_key
from aidmatch.permissions import Role, role_for_org_kind
from aidmatch.places.models import Place
from aidmatch.refusals import Refusal

SEED = 20220224
DEMO_DOMAIN = "demo.aidmatch.org"
DEMO_PASSWORD = "aidmatch-demo-2025"
COORDINATOR_EMAIL = f"coordinator@{DEMO_DOMAIN}"
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
STAFF = [
    (COORDINATOR_EMAIL, "Mariia Hnatiuk", Role.COORDINATOR),
    (ADMIN_EMAIL, "Roman Lytvyn", Role.ADMIN),
]

NEEDS_PER_GROUP = (7, 13)
OFFERS_PER_COLLECTIVE = (6, 10)
# Weights of critical, high, normal, low; life-saving categories skew urgent.
URGENCY_WEIGHTS = {"tactical-medicine": (30, 40, 25, 5), "evacuation": (25, 40, 30, 5)}
DEFAULT_URGENCY_WEIGHTS = (10, 30, 42, 18)
DEADLINE_DAYS = {"critical": (2, 10), "high": (5, 21), "normal": (14, 45), "low": (30, 90)}
# Needs in these categories hint at where defenders or medics stand: often marked sensitive.
SENSITIVE_TOPS = {"tactical-medicine", "communications", "vehicles"}
NEAR_FRONT_RADII = (30, 50, 80, 100, 150, 200, 250, 300)
HUB_TOWNS = ("Dnipro", "Kharkiv", "Zaporizhzhia")
OFFSET_DEG = (0.012, 0.018)  # at most ~1.3 km from the settlement's point
# What the audit trail records of a new post (not the exact point nor the delivery note).


class DemoError(click.ClickException):
    """The demo data cannot be made in this database (the message says what to do)."""


@dataclass
class DemoResult:
    """What one seed_demo call did."""

    created: bool
    organizations: int = 0
    verified: int = 0
    users: int = 0
    needs: int = 0
    offers: int = 0


def demo_email(handle: str) -> str:
    """The demo login of an organization's member."""
    return f"{handle}@{DEMO_DOMAIN}"


def demo_logins() -> list[tuple[str, str, str]]:
    """Every demo login as (email, role, organization name or "")."""
    logins = [(email, str(role), "") for email, _name, role in STAFF]
    for spec in FRONTLINE_GROUPS + DONOR_COLLECTIVES:
        logins.append((demo_email(spec.handle), str(role_for_org_kind(spec.kind)), spec.name))
    return logins


def demo_exists() -> bool:
    """True when the demo coordinator exists, i.e. seed-demo has run on this database."""
    return db.session.scalar(select(User.id).where(User.email == COORDINATOR_EMAIL)) is not None


def _check_database() -> dict[str, Category]:
    if db.session.scalar(select(Place.id).limit(1)) is None:
        raise DemoError("The places table is empty: run `flask places load` first.")
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    wanted = set(ITEMS) | set(PARENT_OFFERS)
    for spec in FRONTLINE_GROUPS + DONOR_COLLECTIVES:
        wanted.update(spec.focus)
    missing = sorted(wanted - set(categories))
    if missing:
        raise DemoError(f"Categories missing ({', '.join(missing)}): run `flask db upgrade` first.")
    specs = FRONTLINE_GROUPS + DONOR_COLLECTIVES
    taken = sorted(
        db.session.scalars(
            select(Organization.name).where(
                Organization.name_key.in_([org_name_key(s.name) for s in specs])
            )
        )
    ) + sorted(
        db.session.scalars(
            select(User.email).where(User.email.in_([e for e, _r, _o in demo_logins()]))
        )
    )
    if taken:
        raise DemoError(
            "Some demo organizations or logins exist already, but not the demo coordinator: "
            f"{', '.join(taken)}. Remove them or use a fresh database."
        )
    return categories


def _resolve_place(spec: OrgSpec) -> Place | None:
    """The gazetteer's entry for an organization's town (Latin name, else Ukrainian)."""
    from aidmatch.places.search import resolve, search

    if spec.oblast is None:
        found = search(spec.town, limit=5, country=spec.country)
        return next((p for p in found if p.country == spec.country), None)
    for name in (spec.town, spec.town_uk):
        for oblast in (f"{spec.oblast} Oblast", spec.oblast):
            place = resolve(name, oblast=oblast)
            if place is not None and place.country == "UA":
                return place
    return None


def _person_and_phone(rng: random.Random, country: str) -> tuple[str, str]:
    first, last = PEOPLE[country]
    person = f"{rng.choice(first)} {rng.choice(last)}"
    phone = PHONE_FORMATS[country].format(
        op=rng.choice(UA_OPERATORS),
        op2=rng.choice(PL_PREFIXES),
        op3=rng.choice(CZ_PREFIXES),
        a=rng.randint(100, 999),
        b=rng.randint(10, 99),
        c=rng.randint(10, 99),
        d=rng.randint(100, 999),
    )
    return person, phone


def _post(rows: list[Need | Offer], actor: User) -> None:
    """Post drawn needs or offers through their operations (validation, points, audit), then
    backdate them to when the draw says they were posted."""
    from aidmatch.needs.operations import create_need
    from aidmatch.offers.operations import create_offer

    for row in rows:
        data = {
            "title": row.title,
            "description": row.description,
            "category": row.category,
            "quantity": row.quantity,
            "place_id": row.place.id,
            "lat": row.lat,
            "lon": row.lon,
        }
        if isinstance(row, Need):
            data.update(
                urgency=row.urgency,
                needed_by=row.needed_by,
                delivery_note=row.delivery_note,
                sensitive=row.sensitive,
            )
            posted = create_need(row.organization, data, actor)
        else:
            data.update(
                delivery_radius_km=row.delivery_radius_km, available_until=row.available_until
            )
            posted = create_offer(row.organization, data, actor)
        posted.created_at = posted.updated_at = row.created_at
    db.session.flush()


@dataclass
class _Poster:
    """One demo organization as it posts: its member, home place and phone, and the draw."""

    rng: random.Random
    spec: OrgSpec
    org: Organization
    user: User
    place: Place
    phone: str
    categories: dict[str, Category]
    hubs: list[tuple[str, Place]]  # towns near the front where partners keep stock
    today: date
    now: datetime

    def pick_category(self, focus_share: float) -> tuple[str, str]:
        """A (top-level slug, leaf slug): mostly from the organization's focus."""
        tops = [c for c in self.categories.values() if c.parent_id is None]
        tops = [c.slug for c in sorted(tops, key=lambda c: (c.position, c.slug))]
        top = self.rng.choice(self.spec.focus if self.rng.random() < focus_share else tops)
        children = sorted(
            (c for c in self.categories.values() if c.parent_id == self.categories[top].id),
            key=lambda c: (c.position, c.slug),
        )
        leaves = [c.slug for c in children if c.slug in ITEMS] or [top]
        return top, self.rng.choice(leaves)

    def point(self, place: Place | None = None) -> tuple[float, float]:
        """The exact point of a post: the place's point moved by a small, seeded offset."""
        place = place or self.place
        lat = place.lat + self.rng.uniform(-OFFSET_DEG[0], OFFSET_DEG[0])
        lon = place.lon + self.rng.uniform(-OFFSET_DEG[1], OFFSET_DEG[1])
        return round(lat, 6), round(lon, 6)


def _quantity(rng: random.Random, lo_hi_step: tuple[int, int, int]) -> int:
    lo, hi, step = lo_hi_step
    return rng.randrange(lo, hi + 1, step)


def _draw_needs(poster: _Poster) -> list[Need]:
    rng, spec = poster.rng, poster.spec
    needs = []
    used: set[str] = set()
    for _ in range(rng.randint(*NEEDS_PER_GROUP)):
        for _attempt in range(5):  # a group rarely posts two needs for the same thing
            top, leaf = poster.pick_category(focus_share=0.65)
            if leaf not in used:
                break
        used.add(leaf)
        item = ITEMS[leaf]
        weights = URGENCY_WEIGHTS.get(top, DEFAULT_URGENCY_WEIGHTS)
        urgency = rng.choices(list(Urgency), weights=weights)[0]
        needed_by = None
        if rng.random() < 0.55:
            needed_by = poster.today + timedelta(days=rng.randint(*DEADLINE_DAYS[urgency]))
        fill = {
            "town": spec.town,
            "people": rng.choice([300, 800, 1500, 4000, 9000, 20000]),
            "days": rng.randint(3, 14),
            "person": poster.user.display_name,
            "phone": poster.phone,
            "street": rng.choice(STREETS),
            "n": rng.randint(1, 60),
        }
        sentences = [item.detail] if item.detail else []
        if top in CONTEXT_BY_TOP:
            sentences.append(rng.choice(CONTEXT_BY_TOP[top]))
        sentences.append(rng.choice(NEED_CONTEXT).format(**fill))
        lat, lon = poster.point()
        created = poster.now - timedelta(hours=rng.uniform(1, 21 * 24))
        needs.append(
            Need(
                organization=poster.org,
                created_by_id=poster.user.id,
                title=rng.choice(item.needs),
                description=" ".join(sentences),
                category=poster.categories[leaf],
                quantity=_quantity(rng, item.need_qty),
                urgency=urgency,
                urgency_rank=URGENCY_RANK[urgency],
                needed_by=needed_by,
                place=poster.place,
                lat=lat,
                lon=lon,
                delivery_note=rng.choice(DELIVERY_NOTES).format(**fill),
                sensitive=rng.random() < (0.35 if top in SENSITIVE_TOPS else 0.03),
                status=NeedStatus.OPEN,
                created_at=created,
                updated_at=created,
            )
        )
    return needs


def _where_and_how_far(poster: _Poster, top: str) -> tuple[Place, str, int | None]:
    """Where an offer's goods are (place, town) and its delivery radius (None: anywhere)."""
    rng, spec = poster.rng, poster.spec
    if top == "funds":
        return poster.place, spec.town, None
    if spec.country != "UA":
        # From abroad: half the stock waits in a partner's warehouse near the front.
        if rng.random() < 0.5:
            town, place = rng.choice(poster.hubs)
            return place, town, rng.choice(NEAR_FRONT_RADII)
        return poster.place, spec.town, None
    if spec.town in ("Kyiv", "Lviv"):
        radius = None if rng.random() < 0.5 else rng.choice((150, 200, 250, 300))
    else:
        radius = None if rng.random() < 0.15 else rng.choice(NEAR_FRONT_RADII)
    return poster.place, spec.town, radius


def _offer_description(
    rng: random.Random, top: str, slug: str, town: str, radius: int | None, abroad: bool
) -> str:
    context = rng.choice(OFFER_CONTEXT_BY_TOP.get(top, OFFER_CONTEXT))
    if top == "funds":
        reach = "Paid by bank transfer once a coordinator has approved the match."
    elif slug == "temporary-housing":
        reach = f"In {town}; we help with the transfer there."
    elif top == "evacuation":
        reach = (
            f"Our crews drive within {radius} km of {town}."
            if radius
            else "Our crews go wherever they are needed."
        )
    elif radius and abroad:
        reach = f"Held at our partner's warehouse in {town}; we deliver within {radius} km."
    elif radius:
        reach = f"We deliver ourselves within {radius} km of {town}."
    else:
        reach = "We can deliver anywhere in Ukraine, by our own convoy or Nova Poshta."
    return f"{context} {reach}"


def _draw_offers(poster: _Poster) -> list[Offer]:
    rng, spec = poster.rng, poster.spec
    offers = []
    parents = [top for top in spec.focus if top in PARENT_OFFERS]
    for _ in range(rng.randint(*OFFERS_PER_COLLECTIVE)):
        if parents and rng.random() < 0.12:
            top = slug = rng.choice(parents)
            item = PARENT_OFFERS[slug]
        else:
            top, slug = poster.pick_category(focus_share=0.8)
            item = ITEMS[slug]
        place, town, radius = _where_and_how_far(poster, top)
        description = _offer_description(rng, top, slug, town, radius, spec.country != "UA")
        available_until = None
        if rng.random() < 0.4:
            available_until = poster.today + timedelta(days=rng.randint(14, 120))
        lat, lon = poster.point(place)
        created = poster.now - timedelta(hours=rng.uniform(1, 28 * 24))
        offers.append(
            Offer(
                organization=poster.org,
                created_by_id=poster.user.id,
                title=rng.choice(item.offers),
                description=description,
                category=poster.categories[slug],
                quantity=_quantity(rng, item.offer_qty),
                place=place,
                lat=lat,
                lon=lon,
                delivery_radius_km=radius,
                available_until=available_until,
                status=OfferStatus.OPEN,
                created_at=created,
                updated_at=created,
            )
        )
    return offers


def seed_demo(today: date | None = None) -> DemoResult:
    """Create the demo data set (flushed, never committed); nothing if it exists already."""
    from aidmatch.auth.operations import create_user
    from aidmatch.orgs.operations import create_organization

    if demo_exists():
        return DemoResult(created=False)
    categories = _check_database()
    specs = FRONTLINE_GROUPS + DONOR_COLLECTIVES
    places = {spec.handle: _resolve_place(spec) for spec in specs}
    missing = [f"{s.town} ({s.oblast or s.country})" for s in specs if places[s.handle] is None]
    if missing:
        raise DemoError(
            f"Not in the gazetteer: {', '.join(missing)}. Run `flask places load` first."
        )

    hubs = [(s.town, places[s.handle]) for s in specs if s.town in HUB_TOWNS]
    hubs = sorted(dict(hubs).items())
    rng = random.Random(SEED)
    today, now = today or utcnow().date(), utcnow()
    result = DemoResult(created=True)
    staff = {}
    for email, name, role in STAFF:
        staff[role] = create_user(email, DEMO_PASSWORD, name, role, language="uk")
        result.users += 1
    for spec in specs:
        person, phone = _person_and_phone(rng, spec.country)
        org = create_organization(
            spec.name,
            OrgKind(spec.kind),
            actor=staff[Role.COORDINATOR],
            place=places[spec.handle],
            contact=f"{person}, {phone} (Signal, Viber)",
            verified=spec.verified,
        )
        org.public_name = rng.random() < 0.5  # opted in to be named on the transparency page
        user = create_user(
            demo_email(spec.handle),
            DEMO_PASSWORD,
            person,
            role_for_org_kind(org.kind),
            organization=org,
            actor=staff[Role.ADMIN],
            language=LANGUAGE_BY_COUNTRY[spec.country],
        )
        result.organizations += 1
        result.verified += spec.verified
        result.users += 1
        place = places[spec.handle]
        poster = _Poster(rng, spec, org, user, place, phone, categories, hubs, today, now)
        if org.kind == OrgKind.FRONTLINE_GROUP:
            needs = _draw_needs(poster)
            _post(needs, user)
            result.needs += len(needs)
        else:
            offers = _draw_offers(poster)
            _post(offers, user)
            result.offers += len(offers)
    db.session.flush()
    return result


def _print_logins() -> None:
    click.echo(f"Demo logins (the password of every one is {DEMO_PASSWORD}):")
    for email, role, org in demo_logins():
        click.echo(f"  {role:<12} {email:<45} {org}".rstrip())


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create the deterministic demo data set (organizations, users, needs, offers)."""
    started = time.perf_counter()
    try:
        result = seed_demo()
        db.session.commit()
    except Refusal as error:  # an operation refused something: say what, in one line
        db.session.rollback()
        raise DemoError(f"Demo data not created: {error.message}") from error
    except Exception:
        db.session.rollback()
        raise
    if result.created:
        seconds = time.perf_counter() - started
        click.echo(
            f"Demo data created in {seconds:.1f} s: {result.organizations} organizations "
            f"({result.verified} verified), {result.users} users, {result.needs} needs, "
            f"{result.offers} offers."
        )
    else:
        click.echo(f"Demo data already exists ({COORDINATOR_EMAIL}): nothing added.")
    _print_logins()
