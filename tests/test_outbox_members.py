"""What waits in the outbox goes only to people who may still hear it when it leaves: a member
removed from (or leaving) an organization since a message about its match or itself was
queued gets none of it, and a message for staff goes to staff only; such a delivery is failed
with the reason, not tried again (issue 16's review)."""

from __future__ import annotations

from sqlalchemy import select

from aidmatch.extensions import db
from aidmatch.jobs.queue import drain
from aidmatch.matches.requests import request_offer
from aidmatch.notify.models import Channel, Delivery, DeliveryStatus, Notification
from aidmatch.notify.outbox import tell
from aidmatch.orgs.members import leave_organization, remove_member
from aidmatch.orgs.operations import decide
from aidmatch.permissions import Role
from tests.factories import make_user
from tests.match_helpers import make_cast
from tests.smtp_server import (  # noqa: F401 (the fixtures app and smtp)
    mail_app_fixture,
    smtp_fixture,
)


def email_of(user, kind: str) -> Delivery:
    (delivery,) = db.session.scalars(
        select(Delivery)
        .join(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.kind == kind,
            Delivery.channel == Channel.EMAIL,
        )
    )
    return delivery


def test_a_member_removed_since_a_match_was_told_gets_nothing_of_it(app, smtp):
    cast = make_cast()
    staying = cast.donor
    removed = make_user(Role.DONOR, org=cast.donor_org, email="removed.donor@example.org")
    left = make_user(Role.DONOR, org=cast.donor_org, email="left.donor@example.org")
    request_offer(cast.offer, cast.organizer, cast.need, 5)  # the donor side is asked
    db.session.commit()
    remove_member(cast.donor_org, removed, cast.coordinator)
    leave_organization(left)
    db.session.commit()
    drain(app)
    assert len(smtp.to(staying.email)) == 1
    assert smtp.to(removed.email) == [] and smtp.to(left.email) == []
    assert email_of(staying, "match_requested").status == DeliveryStatus.SENT
    for user in (removed, left):
        delivery = email_of(user, "match_requested")
        assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
        assert "no longer" in delivery.last_error
    drain(app)  # not tried again
    assert email_of(removed, "match_requested").attempts == 1


def test_a_member_removed_since_a_suspension_was_told_is_not_told_of_it(app, smtp):
    cast = make_cast()
    removed = make_user(Role.ORGANIZER, org=cast.group, email="removed.organizer@example.org")
    decide(cast.group, "suspend", cast.coordinator, reason="Reported by two donors")
    db.session.commit()
    remove_member(cast.group, removed, cast.coordinator)
    db.session.commit()
    drain(app)
    assert len(smtp.to(cast.organizer.email)) == 1 and smtp.to(removed.email) == []
    assert email_of(removed, "org_suspended").status == DeliveryStatus.FAILED


def test_a_message_for_staff_goes_to_staff_only(app, smtp):
    coordinator = make_user(Role.COORDINATOR, email="was.coordinator@example.org")
    still = make_user(Role.COORDINATOR, email="still.coordinator@example.org")
    tell([coordinator, still], "message_reported", params={"thread_id": 1})
    db.session.commit()
    coordinator.role = Role.DONOR  # demoted since it was told
    db.session.commit()
    drain(app)
    assert smtp.to(coordinator.email) == [] and len(smtp.to(still.email)) == 1
    assert email_of(coordinator, "message_reported").status == DeliveryStatus.FAILED


def test_a_member_removed_since_a_run_proposed_to_the_organization_is_not_told(app, smtp):
    from aidmatch.runs.job import run_matching

    cast = make_cast()
    removed = make_user(Role.DONOR, org=cast.donor_org, email="removed.after.run@example.org")
    db.session.commit()
    run = run_matching(cast.coordinator, category_slug=cast.need.category.slug)
    assert run.proposals == 1
    remove_member(cast.donor_org, removed, cast.coordinator)
    db.session.commit()
    drain(app)
    assert len(smtp.to(cast.donor.email)) == 1 and smtp.to(removed.email) == []
    assert email_of(removed, "run_proposals").status == DeliveryStatus.FAILED
