"""Needs and offers as HXL (the Humanitarian Exchange Language, https://hxlstandard.org):
a CSV or XLSX export with a row of hashtags under its header, which the clusters' tools
(HDX, the HXL Proxy, libhxl) read without being told what each column means.

An HXL file is made to be passed on, so it carries less than the ordinary export: the
settlement, its oblast and its P-codes (places/pcodes.py), never a point (exact or coarse),
a description, a delivery note or a contact; no sensitive need at all, and no row of a group
not verified but the viewer's own (``shared_row``: a passed-on file reaches people DESIGN
does not list them to); and an organization's name only where a shared file may name it
(privacy/names.shared_name: the viewer's own, or one that opted in, outside the front-line
oblasts, on no sensitive need).
"""

from __future__ import annotations

from aidmatch.postings.kind import Kind
from aidmatch.privacy.names import shared_name

HEAD = (
    ("id", "#meta+id"),
    ("title", "#item+name"),
    ("category", "#item+type"),
    ("unit", "#item+unit"),
    ("quantity", "#item+num"),
)
TAIL = (("status", "#status"), ("organization", "#org+name"), ("created_at", "#date+reported"))
# Where a row is: the settlement, its oblast, and the oblast's, raion's and hromada's P-codes.
PLACE = (
    ("place", "#loc+name"),
    ("oblast", "#adm1+name"),
    ("adm1_code", "#adm1+code"),
    ("adm2_code", "#adm2+code"),
    ("adm3_code", "#adm3+code"),
)


def hxl_columns(kind: Kind) -> tuple[tuple[str, ...], dict[str, str]]:
    """The columns of a kind's HXL export and their hashtags."""
    pairs = (*HEAD, *kind.hxl_columns, *TAIL, *PLACE)
    return tuple(c for c, _tag in pairs), dict(pairs)


def place_cells(place) -> dict[str, str]:
    """A place as the HXL columns name it (P-codes blank outside Ukraine)."""
    return {
        "place": place.name,
        "oblast": place.oblast or "",
        "adm1_code": place.adm1_pcode or "",
        "adm2_code": place.adm2_pcode or "",
        "adm3_code": place.adm3_pcode or "",
    }


def _day(value) -> str:
    if value is None:
        return ""
    return value.date().isoformat() if hasattr(value, "date") else value.isoformat()


def shared_row(obj, policy) -> bool:
    """Whether a need or offer goes into an HXL file at all: never a sensitive need (listed
    only to verified organizations and coordinators), nor a row of a group that is not
    verified unless it is the viewer's own; staff's files keep to this too."""
    if getattr(obj, "sensitive", False):
        return False
    return obj.organization.verified_at is not None or obj.organization_id == policy.org_id


def hxl_row(kind: Kind, obj, policy) -> dict:
    """One need or offer as a row of an HXL export for the viewer whose policy is given."""
    sensitive = bool(getattr(obj, "sensitive", False))
    row = {
        "id": obj.id,
        "title": (policy.paper_title(obj) or "") if kind.sensitive else obj.title,
        "category": obj.category.slug,
        "unit": str(obj.category.unit),
        "quantity": obj.quantity,
        "status": str(obj.effective_status),
        "organization": shared_name(
            policy, obj.organization, sensitive=sensitive, oblast=obj.place.oblast
        ),
        "created_at": _day(obj.created_at),
        **place_cells(obj.place),
    }
    for column, _tag in kind.hxl_columns:
        value = getattr(obj, column)
        row[column] = _day(value) if hasattr(value, "isoformat") else str(value or "")
    return row
