"""Location privacy (DESIGN.md): the one policy is :class:`aidmatch.privacy.policy.Viewer`;
``viewer_for(user)`` gives the request's."""

from __future__ import annotations

from aidmatch.privacy.policy import Viewer, viewer_for

__all__ = ["Viewer", "viewer_for"]
