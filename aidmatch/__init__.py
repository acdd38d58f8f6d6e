"""aidmatch: matches aid needs of frontline groups with donor offers.

Importing the package imports nothing heavy: the engine (``aidmatch.engine``) stands alone,
and Flask comes in with the application factory (``aidmatch.factory``) when one is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """Build the application (see aidmatch.factory.create_app)."""
    from aidmatch.factory import create_app as build

    return build(config)
