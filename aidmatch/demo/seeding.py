"""seed_demo(): check the database, then create the demo organizations, users, needs, offers.

Organizations and users go through their operations, and needs and offers through
create_need and create_offer (validation, points, audit), so the demo is what a real user
would have made. Nothing is committed here: `flask seed-demo` commits once at its edge.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import click
from sqlalchemy import select

from aidmatch.auth.models import User
from aidmatch.categories.models import Category
from aidmatch.db import utcnow
from aidmatch.demo.data import (
    CZ_PREFIXES,
    DONOR_COLLECTIVES,
    FRONTLINE_GROUPS,
    HUBS,
    ITEMS,
    LANGUAGE_BY_COUNTRY,
    PARENT_OFFERS,
    PEOPLE,
    PHONE_FORMATS,
    PL_PREFIXES,
    UA_OPERATORS,
    OrgSpec,
)
from aidmatch.demo.drawing import Draft, Poster, draw_needs, draw_offers
from aidmatch.extensions import db
from aidmatch.orgs.models import Organization, OrgKind, org_name_key
from aidmatch.permissions import Role, role_for_org_kind
from aidmatch.places.models import Place

SEED = 20220224
DEMO_DOMAIN = "demo.aidmatch.org"
DEMO_PASSWORD = "aidmatch-demo-2025"
COORDINATOR_EMAIL = f"coordinator@{DEMO_DOMAIN}"
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
STAFF = [
    (COORDINATOR_EMAIL, "Mariia Hnatiuk", Role.COORDINATOR),
    (ADMIN_EMAIL, "Roman Lytvyn", Role.ADMIN),
]
HUB_TOWNS = ("Dnipro", "Kharkiv", "Zaporizhzhia")


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
    for spec in FRONTLINE_GROUPS + DONOR_COLLECTIVES + HUBS:
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
    specs = FRONTLINE_GROUPS + DONOR_COLLECTIVES + HUBS
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


def _post(drafts: list[Draft], create: Callable, org: Organization, actor: User) -> None:
    """Post drawn needs or offers through their create operation (validation, points, audit),
    then backdate them to when the draw says they were posted."""
    for draft in drafts:
        posted = create(org, draft.data, actor)
        posted.created_at = posted.updated_at = draft.created_at
    db.session.flush()


def seed_demo(today: date | None = None) -> DemoResult:
    """Create the demo data set (flushed, never committed); nothing if it exists already."""
    from aidmatch.auth.operations import create_user
    from aidmatch.needs.operations import create_need
    from aidmatch.offers.operations import create_offer
    from aidmatch.orgs.operations import create_organization

    if demo_exists():
        return DemoResult(created=False)
    categories = _check_database()
    # The hubs come last: they post nothing, and the draws of the others stay as they were.
    specs = FRONTLINE_GROUPS + DONOR_COLLECTIVES + HUBS
    places = {spec.handle: _resolve_place(spec) for spec in specs}
    missing = [f"{s.town} ({s.oblast or s.country})" for s in specs if places[s.handle] is None]
    if missing:
        raise DemoError(
            f"Not in the gazetteer: {', '.join(missing)}. Run `flask places load` first."
        )

    hubs = [(s.town, places[s.handle]) for s in specs if s.town in HUB_TOWNS and s not in HUBS]
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
        poster = Poster(rng, spec, org, user, place, phone, categories, hubs, today, now)
        if org.kind == OrgKind.FRONTLINE_GROUP:
            needs = draw_needs(poster)
            _post(needs, create_need, org, user)
            result.needs += len(needs)
        elif org.kind != OrgKind.HUB:
            offers = draw_offers(poster)
            _post(offers, create_offer, org, user)
            result.offers += len(offers)
    db.session.flush()
    return result
