"""A month of pledged money confirmed received by several requests at once is recorded once,
and a pledge decided by two coordinators at once is decided once (conditional UPDATEs), on
whatever database this run uses (the helpers of test_matches_concurrency.py)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.tokens import issue
from aidmatch.extensions import db
from aidmatch.money.models import Installment
from aidmatch.money.operations import pledge, set_cost
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need
from tests.test_matches_concurrency import Caller, assert_no_server_errors, run_together


def test_a_month_confirmed_at_once_is_recorded_once(conc_app):
    with conc_app.app_context():
        group = make_org(kind=OrgKind.FRONTLINE_GROUP)
        organizers = [make_user(Role.ORGANIZER, org=group) for _ in range(3)]
        need = make_need(group, organizers[0])
        donor = make_user(Role.DONOR, org=make_org(kind=OrgKind.DONOR_COLLECTIVE))
        set_cost(need, organizers[0], 100_000, "EUR")
        made = pledge(need, donor, 50_000, "EUR", "monthly", 2)
        coordinators = [make_user(Role.COORDINATOR) for _ in range(4)]
        db.session.commit()
        pledge_id, month = made.id, made.installments[0].id
        deciders = [Caller(conc_app, issue(c, ttl_hours=1)[0]) for c in coordinators]
        group_callers = [Caller(conc_app, issue(o, ttl_hours=1)[0]) for o in organizers]
        db.session.commit()

    answers = run_together(
        [lambda c=c: c("POST", f"/money-pledges/{pledge_id}/confirm", {}) for c in deciders]
    )
    assert_no_server_errors(answers)
    assert Counter(code for code, _ in answers) == {200: 1, 409: 3}

    answers = run_together(
        [
            lambda c=group_callers[n % 3], n=n: c(
                "POST", f"/money-installments/{month}/received", {"amount_minor": 40_000 + n}
            )
            for n in range(9)
        ]
    )
    assert_no_server_errors(answers)
    assert Counter(code for code, _ in answers) == {200: 1, 409: 8}
    with conc_app.app_context():
        inst = db.session.get(Installment, month)
        winner = next(a for code, a in answers if code == 200)
        assert inst.amount_received_minor == winner["installments"][0]["amount_received_minor"]
        received = select(func.count()).where(AuditEvent.action == "money.received")
        assert db.session.scalar(received) == 1
