"""The dashboards on the home page: an organization's (what it must do now, its needs or offers
with their progress, its matches by state, its recent history) and a coordinator's (the size of
each queue, each a link to the page that lists it). Each reads a fixed number of statements,
whatever the number of rows, through the lists' own queries (matches/lists.my_matches,
postings/queries.list_page, matches/attention and matches/flags for the conditions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.models import User
from aidmatch.categories.operations import category_parents
from aidmatch.extensions import db
from aidmatch.matches import flags
from aidmatch.matches.attention import review_queue_condition
from aidmatch.matches.lists import my_matches, overdue_condition
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.rules import party_condition
from aidmatch.needs.kind import NEED
from aidmatch.needs.models import Need
from aidmatch.offers.kind import OFFER
from aidmatch.orgs.lifecycle import OrgState
from aidmatch.orgs.models import Organization
from aidmatch.permissions import STAFF_ROLES
from aidmatch.postings.history import ACTION_LABELS
from aidmatch.postings.queries import Filters, list_page
from aidmatch.postings.serialize import page_to_dicts
from aidmatch.web.labels import MATCH_STATUS_LABELS, label_of

POSTINGS_SHOWN = 10  # open needs or offers on the dashboard (the rest: a link to the list)
HISTORY_SHOWN = 12  # recent events
TO_DO_SHOWN = 5  # matches of each kind of work (the rest: a link to /matches)

# What an organization must do now: the sections of my_matches it acts on, with their words
# and the anchor of /matches that lists them.
TO_DO = (
    ("answer", _l("Answer a proposal")),
    ("ship", _l("Ship")),
    ("receive", _l("Confirm what arrived")),
)
# Its matches by state: every section of my_matches, as the matches page names it.
BY_STATE = (
    ("answer", "answer", _l("Waiting for your answer")),
    ("waiting", "waiting", _l("Waiting for a coordinator")),
    ("ship", "ship", _l("Confirmed: to ship")),
    ("on_the_way", "sent", _l("Shipped, waiting for the group to confirm")),
    ("receive", "receive", _l("On the way to you: confirm what arrives")),
    ("incoming", "incoming", _l("Pledged to your needs")),
)


def posting_kind(org):
    """The kind an organization posts: offers for a donor or supply collective, else needs."""
    return OFFER if org.is_donor_side else NEED


def org_dashboard(user, now: datetime) -> dict:
    """An organization member's dashboard (the user's organization)."""
    org = user.organization
    kind = posting_kind(org)
    sections, recent, envelope = my_matches(user, now)
    page = list_page(
        kind,
        user,
        Filters(organization_id=org.id, status="open", per_page=POSTINGS_SHOWN, sort="newest"),
    )
    postings = page_to_dicts(page, user, kind.to_dict)
    return {
        "kind": kind.name,
        "may_post": kind.may_post(org),
        "postings": postings["items"],
        "postings_total": postings["total"],
        "postings_url": url_for(f"{kind.plural}.index", mine="y"),
        "to_do": [
            {
                "words": str(words),
                "rows": sections[key][:TO_DO_SHOWN],
                "count": len(sections[key]),
                "url": url_for("matches.index", _anchor=key),
            }
            for key, words in TO_DO
            if sections[key]
        ],
        "by_state": [
            (str(words), len(sections[key]), url_for("matches.index", _anchor=anchor))
            for key, anchor, words in BY_STATE
            if sections[key]
        ],
        "matches_total": envelope["total"],
        # by_state counts the first page of /matches (the oldest in progress) only
        "matches_counted": sum(len(rows) for rows in sections.values()),
        "matches_pages": envelope["pages"],
        "recently_closed": len(recent),
        "history": org_history(user, kind.model),
    }


def org_history(user, model) -> list[dict]:
    """The latest audit events of the organization's own needs or offers and of its matches
    (either side), newest first: when, what (a posting's verb, a match's new status) and who
    (a member's name to the members; "a coordinator", "the other side" or "aidmatch" for
    the rest). One statement, whatever the number of rows."""
    org_id = user.organization_id
    # Neither subquery is correlated with the outer joins of the same tables.
    own = select(model.id).where(model.organization_id == org_id).correlate(None)
    matched = select(Match.id).where(party_condition(org_id)).correlate(None)
    table = model.__tablename__
    posting = aliased(model)
    matched_need = aliased(Need)
    rows = db.session.execute(
        select(AuditEvent, User, posting.title, matched_need.title)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(
            posting, and_(AuditEvent.object_type == table, posting.id == AuditEvent.object_id)
        )
        .outerjoin(
            Match, and_(AuditEvent.object_type == "matches", Match.id == AuditEvent.object_id)
        )
        .outerjoin(matched_need, matched_need.id == Match.need_id)
        .where(
            or_(
                and_(AuditEvent.object_type == table, AuditEvent.object_id.in_(own)),
                and_(AuditEvent.object_type == "matches", AuditEvent.object_id.in_(matched)),
            )
        )
        .order_by(AuditEvent.id.desc())
        .limit(HISTORY_SHOWN)
    ).all()
    kind = NEED if model is Need else OFFER
    history = []
    for event, actor, posting_title, need_title in rows:
        verb = event.action.rpartition(".")[2]
        if event.object_type == "matches":
            status = (event.after or {}).get("status")
            what = _("match: %(status)s", status=label_of(MATCH_STATUS_LABELS, status))
            title = need_title or ""
            url = url_for("matches.detail", match_id=event.object_id)
        else:
            what = str(ACTION_LABELS.get(verb, verb))
            title = posting_title or ""
            url = url_for(f"{kind.plural}.detail", **{kind.id_arg: event.object_id})
        history.append(
            {"time": event.created_at, "title": title, "url": url, "what": what,
             "who": _who(actor, user)}
        )  # fmt: skip
    return history


def _who(actor, viewer) -> str:
    if actor is None:
        return _("aidmatch (automatic)")
    if actor.organization_id is not None and actor.organization_id == viewer.organization_id:
        return actor.display_name
    if actor.role in STAFF_ROLES:
        return _("a coordinator")
    return _("the other side")


@dataclass(frozen=True)
class Queue:
    """One line of a coordinator's dashboard: what waits, how many, and the page listing them."""

    key: str
    label: str
    count: int
    url: str
    flag: bool = False  # a part of the review queue (one flag's matches)


QUEUE_LABELS = {
    "review": _l("Matches waiting for a coordinator's review"),
    "orgs": _l("Organizations waiting for verification"),
    "overdue": _l("Confirmed matches not shipped in time"),
    "shortfalls": _l("Deliveries where less arrived than was sent"),
}


def queue_sizes(now: datetime) -> list[Queue]:
    """The coordinators' queues, counted in one statement: matches waiting for review (and
    those of each flag), organizations waiting for verification, confirmed matches not
    shipped in time, deliveries where less arrived than was sent."""
    parents = category_parents()
    review = review_queue_condition(now)

    def count(*conditions, model=Match):
        return select(func.count()).select_from(model).where(*conditions).scalar_subquery()

    flagged = {name: count(review, flags.condition(name, now, parents)) for name in flags.FLAGS}
    counts = (
        db.session.execute(
            select(
                count(review).label("review"),
                *(column.label(name) for name, column in flagged.items()),
                count(Organization.state == OrgState.UNVERIFIED, model=Organization).label("orgs"),
                count(overdue_condition(now)).label("overdue"),
                count(Match.status == MatchStatus.DELIVERED, Match.discrepancy.is_(True)).label(
                    "shortfalls"
                ),
            )
        )
        .one()
        ._asdict()
    )
    lines = [
        Queue("review", str(QUEUE_LABELS["review"]), counts["review"], url_for("review.index"))
    ]
    lines += [
        Queue(
            name,
            _("flagged: %(flag)s", flag=flags.label(name)),
            counts[name],
            url_for("review.index", flag=name),
            flag=True,
        )
        for name in flagged
    ]
    lines += [
        Queue(
            "orgs",
            str(QUEUE_LABELS["orgs"]),
            counts["orgs"],
            url_for("orgs.directory", state=OrgState.UNVERIFIED.value),
        ),
        Queue(
            "overdue",
            str(QUEUE_LABELS["overdue"]),
            counts["overdue"],
            url_for("review.index", _anchor="stale"),
        ),
        Queue(
            "shortfalls",
            str(QUEUE_LABELS["shortfalls"]),
            counts["shortfalls"],
            url_for("review.index", _anchor="discrepancies"),
        ),
    ]
    return lines
