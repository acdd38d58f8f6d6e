"""A need or offer sent several times at once with the same one-time token or Idempotency-Key
is posted once, on whatever database this run uses (SQLite file, or PostgreSQL through
TEST_DATABASE_URL): real connections, one app context and session per request, released
together by a barrier (the helpers of test_matches_concurrency.py)."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.tokens import issue
from aidmatch.extensions import db
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import PASSWORD, make_org, make_user
from tests.posting_factories import make_place
from tests.test_matches_concurrency import (
    Caller,
    assert_no_server_errors,
    run_together,
)


def creations(action: str) -> int:
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action))


def test_the_same_key_sent_at_once_posts_each_need_once(conc_app):
    """Twelve calls, four keys, three calls each: four needs, each key's calls answered with
    the same one (one 201, two 200)."""
    with conc_app.app_context():
        org = make_org(kind=OrgKind.FRONTLINE_GROUP)
        callers = [
            Caller(conc_app, issue(make_user(Role.ORGANIZER, org=org), ttl_hours=1)[0])
            for _ in range(3)
        ]
        place_id = make_place().id
        db.session.commit()

    body = {"title": "Water filters", "category": "water-filters", "quantity": 20}
    body["place_id"] = place_id
    keys = [f"retry-{n % 4}" for n in range(12)]
    answers = run_together(
        [
            lambda c=callers[n % 3], k=key: c("POST", "/needs", body, {"Idempotency-Key": k})
            for n, key in enumerate(keys)
        ]
    )
    assert_no_server_errors(answers)
    by_key = defaultdict(list)
    for key, (code, answer) in zip(keys, answers, strict=True):
        by_key[key].append((code, answer["id"]))
    for key, got in by_key.items():
        assert sorted(code for code, _id in got) == [200, 200, 201], (key, got)
        assert len({need_id for _code, need_id in got}) == 1, (key, got)
    with conc_app.app_context():
        stored = db.session.execute(select(Need.idempotency_key, Need.id)).all()
        assert {key: need_id for key, need_id in stored} == {
            key: got[0][1] for key, got in by_key.items()
        }
        assert creations("need.create") == 4


def test_the_same_key_sent_at_once_posts_an_offer_once(conc_app):
    with conc_app.app_context():
        org = make_org(kind=OrgKind.DONOR_COLLECTIVE)
        caller = Caller(conc_app, issue(make_user(Role.DONOR, org=org), ttl_hours=1)[0])
        place_id = make_place().id
        db.session.commit()

    body = {"title": "Generators", "category": "generators", "quantity": 3, "place_id": place_id}
    headers = {"Idempotency-Key": "dropped-connection-retry"}
    answers = run_together([lambda: caller("POST", "/offers", body, headers) for _ in range(8)])
    assert_no_server_errors(answers)
    assert Counter(code for code, _ in answers) == {201: 1, 200: 7}
    assert len({answer["id"] for _code, answer in answers}) == 1
    with conc_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Offer)) == 1
        assert creations("offer.create") == 1


def test_a_need_form_sent_at_once_from_several_connections_posts_once(conc_app):
    """The page's own path: the same form token from six logged-in browsers' connections."""
    with conc_app.app_context():
        user = make_user(Role.ORGANIZER, language="en")
        place = make_place("Zorianka concurrent")
        email, place_id, place_name = user.email, place.id, place.name
        db.session.commit()

    clients = []
    for _ in range(6):
        client = conc_app.test_client()
        login = client.post("/login", data={"email": email, "password": PASSWORD})
        assert login.status_code == 302
        clients.append(client)
    form = {
        "title": "Tourniquets",
        "category": "tourniquets",
        "quantity": "10",
        "urgency": "high",
        "place_name": place_name,
        "place_id": str(place_id),
        "idempotency_key": "one-form-token",
    }
    answers = run_together([lambda c=c: c.post("/needs/new", data=form) for c in clients])
    assert [a.status_code for a in answers] == [302] * 6
    assert len({a.headers["Location"] for a in answers}) == 1
    with conc_app.app_context():
        need_id = db.session.scalar(select(Need.id))
        assert answers[0].headers["Location"].endswith(f"/needs/{need_id}")
        assert db.session.scalar(select(func.count()).select_from(Need)) == 1
        assert creations("need.create") == 1
