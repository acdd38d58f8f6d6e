"""What the packages below notify announce, told to people: a new organization waits for
verification (the coordinators and admins: org_waiting), an organization was verified (its
members: org_verified), an organization was suspended, rejected or un-verified (its members:
org_suspended, org_rejected, org_unverified, with the coordinator's reason). Connected when imported (factory.register_jobs imports it); each
receiver writes in the transaction of the change that sent the signal."""

from __future__ import annotations

from aidmatch.notify.outbox import tell
from aidmatch.notify.recipients import members_of, staff
from aidmatch.orgs.signals import org_verified, org_waiting, org_withdrawn


@org_waiting.connect
def _org_waiting(org, actor=None, **_extra) -> None:
    coordinators = [user for user in staff() if user.id != getattr(actor, "id", None)]
    tell(coordinators, "org_waiting", params={"organization": org.name}, organization=org)


@org_verified.connect
def _org_verified(org, actor=None, **_extra) -> None:
    members = [u for u in members_of([org.id])[org.id] if u.id != getattr(actor, "id", None)]
    tell(members, "org_verified", params={"organization": org.name}, organization=org)


@org_withdrawn.connect
def _org_withdrawn(org, actor=None, kind="org_suspended", reason="", **_extra) -> None:
    members = [u for u in members_of([org.id])[org.id] if u.id != getattr(actor, "id", None)]
    tell(members, kind, params={"organization": org.name, "reason": reason}, organization=org)
