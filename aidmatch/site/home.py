"""What each role's home page shows: the organizations waiting for a coordinator (first),
then what every domain registered in aidmatch.web.home for this user; below, the dashboards
of aidmatch.site.dashboard."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.orgs.lifecycle import OrgState, state_label
from aidmatch.orgs.models import Organization
from aidmatch.permissions import is_staff
from aidmatch.site.dashboard import org_dashboard, queue_sizes
from aidmatch.web.home import AttentionItem, attention_items
from aidmatch.web.labels import unit_label


def unverified_org_count() -> int:
    """How many organizations wait for a coordinator."""
    return db.session.scalar(
        select(func.count())
        .select_from(Organization)
        .where(Organization.state == OrgState.UNVERIFIED)
    )


def _organizations_to_verify(user):
    if not is_staff(user):
        return
    count = unverified_org_count()
    if count:
        yield AttentionItem(
            ngettext(
                "%(num)d organization waits for verification",
                "%(num)d organizations wait for verification",
                count,
            ),
            url_for("orgs.directory", state=OrgState.UNVERIFIED.value),
            "warn",
        )


def _own_organization_waits(user):
    org = user.organization
    if org is not None and org.withdrawn:
        yield AttentionItem(
            _(
                "%(org)s is %(state)s by a coordinator: its needs and offers are hidden from "
                "others.",
                org=org.name,
                state=state_label(org.state),
            ),
            url_for("orgs.detail", org_id=org.id),
            "warn",
        )
    elif org is not None and not org.verified:
        yield AttentionItem(
            _(
                "%(org)s waits for a coordinator to verify it. Until then, its needs are "
                "visible to coordinators only.",
                org=org.name,
            ),
            url_for("orgs.detail", org_id=org.id),
            "warn",
        )


def home_context(user) -> dict:
    """Counts and lists for the signed-in user's home page: what needs attention, then the
    organization's dashboard (for a member) or the queues (for staff)."""
    now = utcnow()
    org = user.organization
    return {
        "organization": org,
        "dashboard": org_dashboard(user, now) if org is not None else None,
        "queues": queue_sizes(now) if is_staff(user) else None,
        "unit_label": unit_label,
        "attention": [
            *_organizations_to_verify(user),
            *_own_organization_waits(user),
            *attention_items(user),
        ],
    }
