"""An offer made to repeat by several requests at once (its collective's members, a double
tap) repeats once: one answer 201, the others 409 saying it repeats already, never a 500."""

from __future__ import annotations

from collections import Counter

from aidmatch.auth.tokens import issue
from aidmatch.extensions import db
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.recurring.models import Recurrence, RecurrencePeriod
from tests.factories import make_org, make_user
from tests.posting_factories import make_offer
from tests.test_matches_concurrency import Caller, assert_no_server_errors, run_together


def test_an_offer_made_to_repeat_at_once_repeats_once(conc_app):
    with conc_app.app_context():
        collective = make_org(kind=OrgKind.DONOR_COLLECTIVE)
        donors = [make_user(Role.DONOR, org=collective) for _ in range(4)]
        offer = make_offer(collective, donors[0], quantity=50)
        db.session.commit()
        offer_id = offer.id
        callers = [Caller(conc_app, issue(d, ttl_hours=1)[0]) for d in donors]
        db.session.commit()

    body = {"every": "week", "quantity": 20}
    answers = run_together(
        [lambda c=c: c("POST", f"/offers/{offer_id}/recurrence", body) for c in callers * 2]
    )
    assert_no_server_errors(answers)
    assert Counter(code for code, _ in answers) == {201: 1, 409: 7}
    with conc_app.app_context():
        assert db.session.query(Recurrence).count() == 1
        assert db.session.query(RecurrencePeriod).count() == 1
