"""bench/load.py's database and its second measure: the demo data (``flask seed-demo``),
`filling.fill`'s needs and offers, the pending proposals of a large run that lapsed and
200 fresh ones for the review queue, the users who look at them, the planner's statistics
(what the worker's db.statistics or PostgreSQL's autovacuum keep); and the SQL statements
one request of each page issues, counted in-process (the app on the same database).

Everything is drawn from one seeded random.Random over rows read in id order, so that a
SQLite file and a PostgreSQL database hold the same rows.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import event, func, select, update

from aidmatch.auth.models import User
from aidmatch.auth.tokens import issue
from aidmatch.db import refresh_statistics, utcnow
from aidmatch.extensions import db
from aidmatch.geo import haversine_km
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import Organization
from aidmatch.permissions import Role
from aidmatch.runs.models import MatchingRun, RunStatus
from bench.filling import fill, insert_in_batches
from tests.conftest import make_test_app, upgrade_and_load
from tests.factories import PASSWORD, make_user

PENDING_TTL = timedelta(hours=72)  # MATCH_PENDING_TTL_HOURS' default
EMAILS = {
    "donor": "donor@load.bench.example.org",
    "organizer": "organizer@load.bench.example.org",
    "coordinator": "coordinator@load.bench.example.org",
}


@dataclass
class Prepared:
    """What the load needs from the filled database: logins, tokens and counts."""

    emails: dict[str, str]  # role -> email (password: tests.factories.PASSWORD)
    tokens: dict[str, str]  # role -> bearer token
    counts: dict[str, int] = field(default_factory=dict)
    fingerprint: str = ""  # the same on SQLite and PostgreSQL when the rows are the same
    password: str = PASSWORD


def prepare(url: str, n_needs: int, n_offers: int, n_lapsed: int, n_fresh: int) -> Prepared:
    """Migrate the empty database at `url`, load the gazetteer, seed the demo, then fill it
    in bulk (committed); the users and tokens of the roles that load it."""
    upgrade_and_load(url)
    app = make_test_app(url)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        if result.exit_code:
            raise RuntimeError(f"flask seed-demo failed:\n{result.output}") from result.exception
        first_need = (db.session.scalar(select(func.max(Need.id))) or 0) + 1
        first_offer = (db.session.scalar(select(func.max(Offer.id))) or 0) + 1
        first_match = (db.session.scalar(select(func.max(Match.id))) or 0) + 1
        setup = fill(n_needs, n_offers)
        busiest = add_proposals(first_need, first_offer, n_lapsed, n_fresh, seed=11)
        hold_proposed(first_need, first_offer, first_match)
        users = {
            "donor": make_user(Role.DONOR, org=db.session.get(Organization, busiest["donor"])),
            "organizer": make_user(
                Role.ORGANIZER, org=db.session.get(Organization, busiest["front"])
            ),
            "coordinator": make_user(Role.COORDINATOR),
        }
        for role, user in users.items():
            user.email = EMAILS[role]
        tokens = {role: issue(user, 24)[0] for role, user in users.items()}
        db.session.commit()
        # The planner's statistics a running database has: on SQLite the worker's hourly
        # db.statistics (also at its start), on PostgreSQL autovacuum's ANALYZE, which would
        # not have come round yet after a bulk load of seconds.
        if not refresh_statistics(db.session.connection()):
            db.session.connection().exec_driver_sql("ANALYZE")
        db.session.commit()
        counts = row_counts()
        fingerprint = bench_fingerprint(first_need, first_offer, first_match)
        counts["bench organizations"] = len(setup["fronts"]) + len(setup["donors"])
        counts["matches of the organizer's group"] = busiest["front matches"]
        counts["matches of the donor's organization"] = busiest["donor matches"]
        db.session.remove()
        db.engine.dispose()
    return Prepared(dict(EMAILS), tokens, counts, fingerprint)


def add_proposals(
    first_need: int, first_offer: int, n_lapsed: int, n_fresh: int, seed: int
) -> dict[str, int]:
    """Insert `n_lapsed` engine proposals of a run four days ago (pending, past their
    expiry: what `flask matches expire` has not stored yet) and `n_fresh` of a run an hour
    ago (pending, in time: the review queue's), each pairing a filled need with an offer of
    its category, within what both have left; no audit events (no page here reads them).
    Returns the front-line group and the donor organization with the most of them, and how
    many they have."""
    rng = random.Random(seed)
    needs = db.session.execute(
        select(Need.id, Need.category_id, Need.lat, Need.lon, Need.quantity, Need.organization_id)
        .where(Need.id >= first_need)
        .order_by(Need.id)
    ).all()
    offers = db.session.execute(
        select(Offer.id, Offer.category_id, Offer.lat, Offer.lon, Offer.quantity)
        .add_columns(Offer.organization_id)
        .where(Offer.id >= first_offer)
        .order_by(Offer.id)
    ).all()
    by_category: dict[int, list] = {}
    for offer in offers:
        by_category.setdefault(offer.category_id, []).append(offer)
    need_left = {n.id: n.quantity for n in needs}
    offer_left = {o.id: o.quantity for o in offers}
    now = utcnow()
    fronts: Counter = Counter()
    donors: Counter = Counter()
    taken: set[tuple[int, int]] = set()
    for count, started in (
        (n_lapsed, now - timedelta(days=4)),
        (n_fresh, now - timedelta(hours=1)),
    ):
        if not count:
            continue
        run = MatchingRun(
            status=RunStatus.FINISHED, scope="all", needs_considered=len(needs),
            offers_considered=len(offers), proposals=count, started_at=started,
            finished_at=started + timedelta(minutes=5), seconds=300.0, stage="done",
        )  # fmt: skip
        db.session.add(run)
        db.session.flush()
        rows = []
        while len(rows) < count:
            need = rng.choice(needs)
            candidates = by_category.get(need.category_id)
            if not candidates or need_left[need.id] <= 0:
                continue
            offer = rng.choice(candidates)
            if offer_left[offer.id] <= 0 or (need.id, offer.id) in taken:
                continue
            quantity = rng.randint(1, min(need_left[need.id], offer_left[offer.id], 25))
            need_left[need.id] -= quantity
            offer_left[offer.id] -= quantity
            taken.add((need.id, offer.id))
            fronts[need.organization_id] += 1
            donors[offer.organization_id] += 1
            created = started + timedelta(minutes=5)
            rows.append(
                dict(
                    need_id=need.id, offer_id=offer.id, organization_id=offer.organization_id,
                    run_id=run.id, quantity=quantity,
                    distance_km=round(haversine_km(need.lat, need.lon, offer.lat, offer.lon), 1),
                    score=round(rng.random(), 4), explanation={}, source=MatchSource.ENGINE,
                    status=MatchStatus.PENDING, created_by_id=None, expires_at=created + PENDING_TTL,
                    extension_used=False, discrepancy=False, created_at=created, updated_at=created,
                )
            )  # fmt: skip
        insert_in_batches(Match, rows)
    db.session.flush()
    return {
        "front": fronts.most_common(1)[0][0] if fronts else needs[0].organization_id,
        "donor": donors.most_common(1)[0][0] if donors else offers[0].organization_id,
        "front matches": fronts.most_common(1)[0][1] if fronts else 0,
        "donor matches": donors.most_common(1)[0][1] if donors else 0,
    }


def hold_proposed(first_need: int, first_offer: int, first_match: int) -> None:
    """Set the filled needs' and offers' `proposed` to the sum of their new pending
    proposals (the soft holds of matches/holds.py), one UPDATE per table."""
    for model, column in ((Need, Match.need_id), (Offer, Match.offer_id)):
        first = first_need if model is Need else first_offer
        total = (
            select(func.coalesce(func.sum(Match.quantity), 0))
            .where(column == model.id, Match.id >= first_match)
            .scalar_subquery()
        )
        db.session.execute(update(model).where(model.id >= first).values(proposed=total))


def row_counts() -> dict[str, int]:
    """How many needs, offers and matches there are, and of the pending ones how many lapsed."""
    now = utcnow()
    count = lambda *where: db.session.scalar(select(func.count()).select_from(Match).where(*where))  # noqa: E731
    return {
        "needs": db.session.scalar(select(func.count(Need.id))),
        "offers": db.session.scalar(select(func.count(Offer.id))),
        "matches": count(),
        "pending lapsed": count(Match.is_lapsed(now)),
        "pending in time": count(Match.status == MatchStatus.PENDING, ~Match.is_lapsed(now)),
    }


def bench_fingerprint(first_need: int, first_offer: int, first_match: int) -> str:
    """Sums over the bench's own needs, offers and matches: equal sums on SQLite and
    PostgreSQL say the fill drew the same rows on both."""
    sums = [
        select(
            func.sum(m.quantity), func.sum(m.place_id), func.sum(m.category_id * m.quantity)
        ).where(m.id >= first)
        for m, first in ((Need, first_need), (Offer, first_offer))
    ]
    sums.append(
        select(func.sum(Match.quantity), func.sum(Match.need_id), func.sum(Match.offer_id)).where(
            Match.id >= first_match
        )
    )
    return "-".join(str(value or 0) for stmt in sums for value in db.session.execute(stmt).one())


def count_statements(url: str, emails: dict[str, str], pages: list) -> dict[tuple, int]:
    """The SQL statements a GET of each page issues once it is kept, as its role, through
    the test client of the app on the same database, each request on a session of its own
    (as a server's): the first three fill what each process holds (a page's rows, its user,
    then its bell's count, held only when read before the request's transaction began)."""
    app = make_test_app(url)
    counts: dict[tuple, int] = {}  # (page name, role) -> statements; -1: not a 200
    with app.app_context():
        statements = [0]

        def counter(*_args) -> None:
            statements[0] += 1

        event.listen(db.engine, "before_cursor_execute", counter)
        users = {
            r: db.session.scalar(select(User).where(User.email == e)) for r, e in emails.items()
        }
        tokens = {role: issue(user, 1)[0] for role, user in users.items()}
        db.session.commit()
        user_ids = {role: user.get_id() for role, user in users.items()}
        for page in pages:
            client = app.test_client()
            headers = {}
            if page.role in users and page.path.startswith("/api/"):
                headers["Authorization"] = f"Bearer {tokens[page.role]}"
            elif page.role in users:
                with client.session_transaction() as session:
                    session["_user_id"] = user_ids[page.role]
                    session["_fresh"] = True
            for _ in range(3):
                client.get(page.path, headers=headers)
                db.session.remove()  # as a server's request ends: its transaction too
            statements[0] = 0
            response = client.get(page.path, headers=headers)
            db.session.remove()
            counts[page.name, page.role] = statements[0] if response.status_code == 200 else -1
        event.remove(db.engine, "before_cursor_execute", counter)
        db.session.remove()
        db.engine.dispose()
    return counts
