"""What each role's home page shows: the things that need this user's attention."""

from __future__ import annotations

from sqlalchemy import func, select

from aidmatch.extensions import db
from aidmatch.orgs.models import Organization
from aidmatch.permissions import is_staff


def home_context(user) -> dict:
    """Counts and lists for the signed-in user's home page."""
    context: dict = {"unverified_orgs": 0, "organization": user.organization}
    if is_staff(user):
        context["unverified_orgs"] = db.session.scalar(
            select(func.count()).select_from(Organization).where(Organization.verified_at.is_(None))
        )
    return context
