"""Forms of the organization pages, and how organization kinds are named to people."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField

from aidmatch.orgs.lifecycle import STATE_LABELS
from aidmatch.orgs.models import DONOR_KINDS, OrgKind

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
        OrgKind.HUB: _l("Hub or warehouse"),
    }
    return labels.get(kind, kind)


def org_kind_choices() -> list:
    """The kinds of organization a person may register (labels with a hint)."""
    return [
        choice(OrgKind.FRONTLINE_GROUP.value, _l("Frontline group (we need aid)")),
        choice(OrgKind.DONOR_COLLECTIVE.value, _l("Donor collective (we fund aid)")),
        choice(OrgKind.SUPPLY_COLLECTIVE.value, _l("Supply collective (we have goods to give)")),
        choice(OrgKind.HUB.value, _l("Hub or warehouse (goods pass through us)")),
    ]


class ActionForm(FlaskForm):
    """A button that changes state (verify, make an invite): nothing but the CSRF token."""


def org_state_choices() -> list:
    """The states the directory filters by (all first)."""
    return [choice("", _l("all")), *(choice(s.value, label) for s, label in STATE_LABELS.items())]


def org_kind_filter_choices() -> list:
    """The kinds the directory filters by (all first)."""
    return [choice("", _l("all")), *(choice(k.value, org_kind_label(k)) for k in OrgKind)]


def kinds_for(org) -> list:
    """The kinds an organization may change to: those of its side (its members' roles follow
    from the kind: orgs/operations.update_organization refuses the others)."""
    same_side = [k for k in OrgKind if (k in DONOR_KINDS) == (org.kind in DONOR_KINDS)]
    return [choice(k.value, org_kind_label(k)) for k in same_side]


class OrgEditForm(FlaskForm):
    """An organization's profile. Lengths and the rules are the verb's; the form parses."""

    name = StringField(_l("Name"))
    kind = SelectField(_l("Kind"), validate_choice=False)
    place_name = StringField(_l("Settlement"))
    place_id = HiddenField()
    description = TextAreaField(_l("Description"))
    contact = TextAreaField(_l("Contact"))
    public_name = BooleanField(_l("The public transparency page may name us"))


class DecisionForm(FlaskForm):
    """A coordinator's decision on an organization: why, and how it was checked."""

    reason = TextAreaField(_l("Reason"))
    note = TextAreaField(_l("How it was checked"))


class DirectoryForm(FlaskForm):
    """The directory's search and filters: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("Name"))
    state = SelectField(_l("State"), validate_choice=False)
    kind = SelectField(_l("Kind"), validate_choice=False)
    oblast = SelectField(_l("Oblast"), validate_choice=False)


class VouchForm(FlaskForm):
    """Vouch for an organization: a sentence of why (orgs/vouches.clean_reason checks it)."""

    reason = TextAreaField(_l("How do you know them?"))
