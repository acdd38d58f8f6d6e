"""What the domains above orgs add to an organization's page (its open needs or offers), as a
registry: a higher package registers a function (org, viewer) -> template context with
@org_page_section when it is imported (factory.register_hooks imports it)."""

from __future__ import annotations

from collections.abc import Callable

_sections: list[Callable[[object, object], dict]] = []


def org_page_section(func):
    """Register a function (org, viewer) -> template context for the organization's page."""
    _sections.append(func)
    return func


def org_page_sections(org, viewer) -> dict:
    """What every registered section adds to this organization's page, for this viewer."""
    context: dict = {}
    for section in _sections:
        context.update(section(org, viewer))
    return context
