"""Imports every model so that metadata, Alembic and relationships see them all."""

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.models import ApiToken, User
from aidmatch.categories.models import Category
from aidmatch.matches.models import Match
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import Invite, Organization
from aidmatch.places.models import Place
from aidmatch.runs.models import MatchingRun

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Category",
    "Invite",
    "Match",
    "MatchingRun",
    "Need",
    "Offer",
    "Organization",
    "Place",
    "User",
]
