"""The lifecycle table and the verbs cannot disagree: for every button, every state a match can
be in and every kind of viewer, the verb succeeds exactly when the table shows the button, and
otherwise refuses as the table says (403 for the wrong side, 409 for the wrong state)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import lifecycle
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.refusals import Refusal
from aidmatch.web.errors import refusal_status
from tests.factories import make_org, make_user
from tests.match_helpers import assert_invariant, make_cast

VERBS = {
    "accept": lambda m, u: ops.accept(m, u),
    "decline": lambda m, u: ops.decline(m, u, "no"),
    "approve": lambda m, u: ops.approve(m, u),
    "reject": lambda m, u: ops.reject(m, u, "no"),
    "withdraw": lambda m, u: ops.withdraw(m, u, "no"),
    "extend": lambda m, u: ops.request_extension(m, u),
    "ship": lambda m, u: ops.ship(m, u, "sent"),
    "confirm-delivery": lambda m, u: ops.confirm_delivery(m, u, m.quantity),
    "release": lambda m, u: ops.release(m, u, ""),
}


def _past(match: Match, **delta) -> None:
    db.session.execute(
        update(Match).where(Match.id == match.id).values(expires_at=utcnow() - timedelta(**delta))
    )
    db.session.refresh(match)


def _states(cast) -> dict[str, Match]:
    """One match in each state a person can meet."""

    def proposal():
        return ops.reserve(
            cast.need, cast.offer, cast.donor_org, 1, source=MatchSource.ENGINE, distance_km=1.0
        )

    def claim():
        return ops.claim_need(cast.need, cast.donor, 1, offer=cast.offer)

    states = {"proposal": proposal(), "claim": claim()}
    states["approved proposal"] = ops.approve(proposal(), cast.coordinator)
    states["confirmed"] = ops.approve(claim(), cast.coordinator)
    states["overdue"] = ops.approve(claim(), cast.coordinator)
    _past(states["overdue"], days=1)
    states["extended"] = ops.request_extension(claim(), cast.donor)
    states["shipped"] = ops.ship(ops.approve(claim(), cast.coordinator), cast.donor, "sent")
    states["delivered"] = ops.confirm_delivery(
        ops.ship(ops.approve(claim(), cast.coordinator), cast.donor, "sent"), cast.organizer, 1
    )
    states["declined"] = ops.decline(proposal(), cast.donor, "")
    states["lapsed"] = claim()
    _past(states["lapsed"], hours=1)
    return states


@pytest.fixture
def scene(app):
    cast = make_cast(need_quantity=100)
    stranger = make_user(Role.DONOR, org=make_org(kind=OrgKind.DONOR_COLLECTIVE))
    states = _states(cast)
    db.session.commit()
    people = {
        "donor": cast.donor,
        "group": cast.organizer,
        "coordinator": cast.coordinator,
        "stranger": stranger,
    }
    return states, people


def test_every_verb_agrees_with_the_table(scene):
    states, people = scene
    done = set()
    for state, match in states.items():
        for who, user in people.items():
            for slug, verb in VERBS.items():
                now = utcnow()
                db.session.refresh(match)
                shown = slug in lifecycle.available(user, match, now)
                expected = lifecycle.refusal(slug, user, match, now)
                assert shown == (expected is None), (state, who, slug)
                savepoint = db.session.begin_nested()
                try:
                    verb(match, user)
                except Refusal as refused:
                    assert not shown, (state, who, slug, refused.message)
                    assert refusal_status(refused) == refusal_status(expected), (state, who, slug)
                    assert refused.message == expected.message, (state, who, slug)
                else:
                    assert shown, (state, who, slug)
                    done.add((state, who, slug))
                finally:
                    savepoint.rollback()
    # Each attempt was undone (the donor could both withdraw from and ship one match), and
    # exactly these succeeded: the table in full, read from the verbs.
    assert done == {
        *(("proposal", "donor", a) for a in ("accept", "decline", "extend")),
        *(("proposal", "coordinator", a) for a in ("approve", "reject")),
        *(("approved proposal", "donor", a) for a in ("accept", "decline", "extend")),
        *(("claim", "donor", a) for a in ("decline", "extend")),
        *(("claim", "coordinator", a) for a in ("approve", "reject")),
        ("extended", "donor", "decline"),
        *(("extended", "coordinator", a) for a in ("approve", "reject")),
        *(("confirmed", "donor", a) for a in ("withdraw", "extend", "ship")),
        *(("overdue", "donor", a) for a in ("withdraw", "extend", "ship")),
        ("overdue", "coordinator", "release"),
        ("shipped", "group", "confirm-delivery"),
    }
    assert_invariant()


def test_the_table_in_words(scene):
    """A few rows spelled out, as DESIGN.md says them."""
    states, people = scene
    now = utcnow()
    donor, group, coordinator = people["donor"], people["group"], people["coordinator"]
    assert lifecycle.available(donor, states["proposal"], now) == ["accept", "decline", "extend"]
    assert lifecycle.available(coordinator, states["proposal"], now) == ["approve", "reject"]
    assert lifecycle.available(donor, states["claim"], now) == ["decline", "extend"]
    assert lifecycle.available(coordinator, states["approved proposal"], now) == []
    assert lifecycle.available(donor, states["confirmed"], now) == ["withdraw", "extend", "ship"]
    assert lifecycle.available(coordinator, states["overdue"], now) == ["release"]
    assert lifecycle.available(group, states["shipped"], now) == ["confirm-delivery"]
    assert lifecycle.available(donor, states["extended"], now) == ["decline"]
    for who in people.values():
        assert lifecycle.available(who, states["lapsed"], now) == []
        assert lifecycle.available(who, states["delivered"], now) == []
    assert states["lapsed"].status_at(now) == MatchStatus.EXPIRED
    refused = lifecycle.refusal("accept", people["stranger"], states["proposal"], now)
    assert refusal_status(refused) == 403


def test_every_button_of_the_table_has_a_form_a_page_route_and_an_api_route(app):
    from aidmatch.matches.views import ACTION_FORMS, DONE_MESSAGES

    buttons = set(lifecycle.BY_SLUG)
    assert buttons == set(ACTION_FORMS) == set(DONE_MESSAGES) == set(VERBS)
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    for slug in buttons:
        assert f"/api/v1/matches/<int:match_id>/{slug}" in rules, slug
    assert "/matches/<int:match_id>/<action>" in rules
