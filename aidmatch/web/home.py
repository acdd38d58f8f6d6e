"""The home page's list of what needs a user's attention, as a registry: each domain adds
what its users must act on with @attention_provider, a function of the user that yields
AttentionItems (aidmatch.site.home puts the organizations' items first and renders the page).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


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


def attention_items(user) -> list[AttentionItem]:
    """Everything every registered provider has for this user, in registration order."""
    return [item for provider in _providers for item in provider(user)]
