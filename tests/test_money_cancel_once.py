"""A money pledge stopped by several requests of its collective at once is stopped once (a
conditional UPDATE, as decide does): one answer 200, the others 409, one audit event and one
notice to the group; a pledge a coordinator decides while the collective stops it ends in one
state that both answers agree on."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.tokens import issue
from aidmatch.extensions import db
from aidmatch.money.models import MoneyPledge
from aidmatch.money.operations import pledge, set_cost
from aidmatch.notify.models import Notification
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need
from tests.test_matches_concurrency import Caller, assert_no_server_errors, run_together


def test_a_pledge_stopped_at_once_is_stopped_once(conc_app):
    with conc_app.app_context():
        group = make_org(kind=OrgKind.FRONTLINE_GROUP)
        organizer = make_user(Role.ORGANIZER, org=group)
        need = make_need(group, organizer)
        collective = make_org(kind=OrgKind.DONOR_COLLECTIVE)
        donors = [make_user(Role.DONOR, org=collective) for _ in range(4)]
        set_cost(need, organizer, 100_000, "EUR")
        made = pledge(need, donors[0], 50_000, "EUR", "monthly", 2)
        db.session.commit()
        pledge_id = made.id
        callers = [Caller(conc_app, issue(d, ttl_hours=1)[0]) for d in donors]
        db.session.commit()

    answers = run_together(
        [lambda c=c: c("POST", f"/money-pledges/{pledge_id}/cancel", {}) for c in callers * 2]
    )
    assert_no_server_errors(answers)
    assert Counter(code for code, _ in answers) == {200: 1, 409: 7}
    with conc_app.app_context():
        assert db.session.get(MoneyPledge, pledge_id).status == "cancelled"
        audits = select(func.count()).where(AuditEvent.action == "money.cancel")
        assert db.session.scalar(audits) == 1
        told = select(func.count()).where(Notification.kind == "money_pledge_cancelled")
        assert db.session.scalar(told) == 1  # the group's one member
