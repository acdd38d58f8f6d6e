"""A need's cost and a group's payment details set by several requests at once (the group's
members, a double tap): each answer a success or a clear refusal, never a 500 (the row is one
per need, one per group: the second insert met the first one's unique key)."""

from __future__ import annotations

from aidmatch.auth.tokens import issue
from aidmatch.extensions import db
from aidmatch.money.models import NeedCost
from aidmatch.orgs.models import OrgKind, OrgRole, PaymentDetails
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need
from tests.test_matches_concurrency import Caller, assert_no_server_errors, run_together


def test_a_cost_and_payment_details_set_at_once(conc_app):
    with conc_app.app_context():
        group = make_org(kind=OrgKind.FRONTLINE_GROUP)
        owners = [make_user(Role.ORGANIZER, org=group, org_role=OrgRole.OWNER) for _ in range(4)]
        need = make_need(group, owners[0])
        db.session.commit()
        need_id, group_id = need.id, group.id
        callers = [Caller(conc_app, issue(o, ttl_hours=1)[0]) for o in owners]
        db.session.commit()

    answers = run_together(
        [
            lambda c=c, n=n: c(
                "PUT", f"/needs/{need_id}/cost", {"amount_minor": 1000 + n, "currency": "EUR"}
            )
            for n, c in enumerate(callers * 2)
        ]
    )
    assert_no_server_errors(answers)
    answers = run_together(
        [
            lambda c=c, n=n: c(
                "PUT",
                f"/orgs/{group_id}/payment-details",
                {"link": f"https://pay.example.org/{n}"},
            )
            for n, c in enumerate(callers * 2)
        ]
    )
    assert_no_server_errors(answers)
    with conc_app.app_context():
        assert db.session.query(NeedCost).filter_by(need_id=need_id).count() == 1
        assert db.session.query(PaymentDetails).filter_by(organization_id=group_id).count() == 1
