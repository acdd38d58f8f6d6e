"""What the packages below notify announce, told to people: a new organization waits for
verification (the coordinators and admins: org_waiting), an organization was verified (its
members: org_verified), an organization was suspended, rejected or un-verified (its members:
org_suspended, org_rejected, org_unverified, with the coordinator's reason; when it was
vouched for and is suspended or rejected, the members of each organization whose vouch stood,
vouched_org_rejected or vouched_org_suspended, without the reason, and the coordinators with
the vouchers' names, vouched_org_withdrawn). Connected when imported (factory.register_jobs
imports it); each receiver writes in the transaction of the change that sent the signal."""

from __future__ import annotations

from aidmatch.notify.outbox import tell
from aidmatch.notify.recipients import members_of, staff
from aidmatch.orgs.signals import org_verified, org_waiting, org_withdrawn
from aidmatch.orgs.vouches import vouches_for

# The kind a voucher's members receive, by the kind the organization's own members receive.
TO_VOUCHERS = {"org_rejected": "vouched_org_rejected", "org_suspended": "vouched_org_suspended"}


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
    _tell_about_vouches(org, actor, kind)


def _tell_about_vouches(org, actor, kind: str) -> None:
    """A rejected or suspended organization that stood vouched for: its vouchers' members
    (who vouched, not why it was decided) and the coordinators (with the vouchers)."""
    vouches = vouches_for(org, active_only=True)
    if not vouches:
        return
    actor_id = getattr(actor, "id", None)
    vouchers = {vouch.voucher_id: vouch.voucher for vouch in vouches}
    members = members_of(vouchers)
    for voucher_id, voucher in vouchers.items():
        told = [u for u in members[voucher_id] if u.id != actor_id]
        tell(
            told,
            TO_VOUCHERS.get(kind, "vouched_org_suspended"),
            params={"organization": org.name},
            organization=voucher,
        )
    coordinators = [user for user in staff() if user.id != actor_id]
    names = sorted(voucher.name for voucher in vouchers.values())
    tell(
        coordinators,
        "vouched_org_withdrawn",
        params={"organization": org.name, "state": str(org.state), "vouchers": names},
        organization=org,
    )
