"""Which organizations a file or page that may leave the app names (DESIGN: "no names of
groups unless a group opts in"; "groups in front-line oblasts are named at oblast level at
most, whatever they chose"): the transparency page and its ledger, the public dataset of
deliveries and every HXL file (exports meant to be shared with the humanitarian clusters).
"""

from __future__ import annotations

from flask import current_app


def may_name(public_name: bool, sensitive: bool, oblast: str | None) -> bool:
    """Whether a shared file names an organization: it opted in (public_name), the need is
    not sensitive, and its oblast is not near the front (FRONT_OBLASTS), whatever it chose."""
    return bool(public_name) and not sensitive and oblast not in current_app.config["FRONT_OBLASTS"]


def shared_name(viewer, org, *, sensitive: bool = False, oblast: str | None = None) -> str:
    """An organization's name in an HXL file a viewer exports: its own organization's always,
    any other only where may_name allows (staff too: the file is made to be passed on); ""
    otherwise."""
    if org is None:
        return ""
    if viewer.org_id is not None and viewer.org_id == org.id:
        return org.name
    return org.name if may_name(org.public_name, sensitive, oblast) else ""
