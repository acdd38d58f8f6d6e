"""Forms of the organization pages, and how organization kinds are named to people."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from aidmatch.orgs.models import OrgKind

try:  # WTForms >= 3.3 deprecates (value, label) tuples as choices
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


def choice(value: str, label) -> object:
    """One option of a SelectField or RadioField, in the form this WTForms wants."""
    if SelectChoice is None:
        return (value, label)
    return SelectChoice(value=value, label=label)


def org_kind_label(kind) -> str:
    """The kind of an organization, in words."""
    labels = {
        OrgKind.FRONTLINE_GROUP: _l("Frontline group"),
        OrgKind.DONOR_COLLECTIVE: _l("Donor collective"),
        OrgKind.SUPPLY_COLLECTIVE: _l("Supply collective"),
    }
    return labels.get(kind, kind)


def org_kind_choices() -> list:
    """The kinds of organization a person may register (labels with a hint)."""
    return [
        choice(OrgKind.FRONTLINE_GROUP.value, _l("Frontline group (we need aid)")),
        choice(OrgKind.DONOR_COLLECTIVE.value, _l("Donor collective (we fund aid)")),
        choice(OrgKind.SUPPLY_COLLECTIVE.value, _l("Supply collective (we have goods to give)")),
    ]


class ActionForm(FlaskForm):
    """A button that changes state (verify, make an invite): nothing but the CSRF token."""
