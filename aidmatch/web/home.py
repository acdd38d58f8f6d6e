"""What each role's home page shows: the things that need this user's attention.

Each domain adds what its users must act on with @attention_provider: a function of the
user that yields AttentionItems (needs and claims will add theirs the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from aidmatch.extensions import db
from aidmatch.orgs.models import Organization
from aidmatch.permissions import is_staff


@dataclass(frozen=True)
class AttentionItem:
    """One line on the home page: what to look at, and where (level: info, warn, urgent)."""

    text: str
    url: str | None = None
    level: str = "info"


_providers: list[Callable[[object], Iterable[AttentionItem]]] = []


def attention_provider(func_):
    """Register a function user -> AttentionItems shown on that user's home page."""
    _providers.append(func_)
    return func_


def unverified_org_count() -> int:
    """How many organizations wait for a coordinator."""
    return db.session.scalar(
        select(func.count()).select_from(Organization).where(Organization.verified_at.is_(None))
    )


@attention_provider
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
            url_for("orgs.review"),
            "warn",
        )


@attention_provider
def _own_organization_waits(user):
    org = user.organization
    if org is not None and not org.verified:
        yield AttentionItem(
            _(
                "%(org)s waits for a coordinator to verify it. Until then, its needs are "
                "visible to coordinators only.",
                org=org.name,
            ),
            url_for("orgs.detail", org_id=org.id),
            "warn",
        )


def attention_items(user) -> list[AttentionItem]:
    """Everything every registered provider has for this user, in registration order."""
    return [item for provider in _providers for item in provider(user)]


def home_context(user) -> dict:
    """Counts and lists for the signed-in user's home page."""
    return {
        "organization": user.organization,
        "unverified_orgs": unverified_org_count() if is_staff(user) else 0,
        "attention": attention_items(user),
    }
