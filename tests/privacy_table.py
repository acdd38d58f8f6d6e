"""The location-privacy table of DESIGN.md as data: who (role) in which relation to an object
(need, offer, match, organization) sees which field on which surface (API, pages, CSV, map
feed, transparency page). Pure Python: no app, no database; tests/test_privacy_table.py builds
the world this describes and checks every row through HTTP responses.

DESIGN.md, "Location privacy" (the expectations below, nothing else):
- the exact point, the delivery note and contacts: coordinators, admins, the owning
  organization and the other party of a confirmed (or shipped, delivered) match;
- everyone else: settlement, oblast, the coarse point, distances from it rounded to 5 km; an
  explanation or score they get carries no exact distance;
- a sensitive need is listed only to verified organizations and coordinators; an unverified
  group's needs only to coordinators (and its own members);
- anonymous visitors see only the transparency page; other donors' matches on a need show
  only as totals (not the donors' names).
Where DESIGN is silent, a row states what the app does today (CSV exports hold one's own rows
only; an unverified collective's offers are listed to staff and itself).
"""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("pending", "confirmed", "shipped", "delivered")
REVEALED = frozenset({"confirmed", "shipped", "delivered"})
STAFF = frozenset({"coordinator", "admin"})

# Organizations: key -> (kind, verified).
ORGS = {
    "G": ("frontline_group", True),  # owns every need but NU
    "G2": ("frontline_group", True),  # an unrelated group
    "UG": ("frontline_group", False),  # an unverified group, owns NU
    **{f"D_{s}": ("donor_collective", True) for s in STATUSES},
    "D_x": ("donor_collective", True),  # unrelated donor, owns the "anywhere" offer O_free
    "DU": ("donor_collective", False),  # an unverified collective, owns O_u
    "H": ("hub", True),  # a hub the shipped match passes through
    "VG": ("frontline_group", False),  # an unverified group two verified ones vouched for
    "V1": ("donor_collective", True),  # its vouchers (no viewer of theirs)
    "V2": ("supply_collective", True),
}
# Vouches (orgs/vouches.py): the vouched organization -> its vouchers, all of one oblast. A
# vouched group's non-sensitive needs are listed to donors while it waits for a coordinator
# (VOUCHED_NEEDS_SHOWN, on by default), as other groups' needs are, with the badge; its
# sensitive needs wait; who vouched is seen by coordinators only (the organization's page,
# /orgs/vouches, /api/v1/orgs/<id>/vouches), never by donors nor by the group itself.
VOUCHES = {"VG": ("V1", "V2")}
VOUCHER_SURFACES = ("html_detail", "html_vouches", "api_vouches")
# Needs: key -> (owner, sensitive). N_<status> is matched with O_<status>.
NEEDS = {
    **{f"N_{s}": ("G", False) for s in STATUSES},
    "NS": ("G", True),
    "NU": ("UG", False),
    "NV": ("VG", False),
    "NVS": ("VG", True),
}
OFFERS = {**{f"O_{s}": f"D_{s}" for s in STATUSES}, "O_free": "D_x", "O_u": "DU"}
MATCHES = {f"M_{s}": (f"N_{s}", f"O_{s}", s) for s in STATUSES}
# The legs of shipments (aidmatch/legs): the donor of M_shipped handed it over to the hub H,
# which confirmed it. A hub on a match's route sees the match as a non-side does (names,
# settlement; never the group's point, note or contact, nor the conversation), and a leg's
# receiver's contact (the hub's address) is seen by the leg's two organizations and staff.
ROUTES = {"M_shipped": ("D_shipped", "H")}
# The need whose instant candidates (offers) are checked, and the offer whose candidates
# (needs) are: the "anywhere" offer of an unrelated donor reaches every need.
CANDIDATES_OF_NEED = "N_confirmed"
CANDIDATES_OF_OFFER = "O_free"
# The conversations of the world: the group writes on each match (POST
# /api/v1/matches/<id>/messages), and G asks the collective of O_free about that offer before
# any match. A message body is shown only to the conversation's two organizations and staff
# (and told to the other side only: never in anyone else's inbox).
CONVERSATION_OFFER = ("O_free", "G")
# The notifications of each viewer (the world tells the parties of the sensitive need and of
# each match about them): no need's title, point, note or contact is ever on them.
INBOX_SURFACES = ("html_inbox", "api_inbox")


@dataclass(frozen=True)
class Viewer:
    """One person looking: a role and the organization it belongs to (None for staff)."""

    key: str
    role: str
    org: str | None


VIEWERS = (
    Viewer("anonymous", "anonymous", None),
    Viewer("organizer-owner", "organizer", "G"),
    Viewer("organizer-unrelated", "organizer", "G2"),
    Viewer("organizer-unverified_org", "organizer", "UG"),
    Viewer("organizer-vouched_org", "organizer", "VG"),
    *(Viewer(f"donor-other_side_{s}", "donor", f"D_{s}") for s in STATUSES),
    Viewer("donor-unrelated", "donor", "D_x"),
    Viewer("donor-unverified_org", "donor", "DU"),
    Viewer("donor-hub_on_route", "donor", "H"),
    Viewer("coordinator", "coordinator", None),
    Viewer("admin", "admin", None),
)

MATCH_FIELDS = frozenset(
    {"listed", "need_exact_point", "offer_exact_point", "delivery_note", "group_contact",
     "donor_contact", "other_side_name", "exact_distance", "score_explanation"}
)  # fmt: skip
# Surfaces per kind of object, with the fields each can show at all. A field a surface does
# not carry still gets its "hidden" rows (a leak check) but no "shown" rows.
SURFACES = {
    "need": {
        "api_list": {"listed", "exact_point", "delivery_note", "exact_distance"},
        "api_detail": {"listed", "exact_point", "delivery_note"},
        "html_list": {"listed"},
        "html_detail": {"listed", "exact_point", "delivery_note", "other_side_name"},
        "map_page": set(),
        "map_data": {"listed", "exact_point"},
        # the map feed narrowed by "near a place within N km" (matched on the coarse point
        # for whoever may not see the exact one), with quantity and progress
        "map_near": {"listed", "exact_point"},
        "csv_export": {"listed", "exact_point", "delivery_note"},
        "xlsx_export": {"listed", "exact_point", "delivery_note"},  # the same rows and fields
        "api_offer_candidates": {"listed", "exact_distance"},
        "html_offer_candidates": set(),  # the page ranks the top 5 only: leak checks
        # The "Request this" form of the offer CANDIDATES_OF_OFFER (its own page): the
        # organizer's verified group's fitting open needs, by title, nothing else.
        "html_request_form": {"listed"},
        "transparency": set(),
        "ledger": set(),
        "html_inbox": set(),  # /notifications: leak checks (a notification names no need)
        "api_inbox": set(),  # /api/v1/notifications
        # The admins' list of failed e-mails and Telegram messages (only admins may open it):
        # kind, channel, recipient, error; nothing of a need, for anyone.
        "admin_deliveries": set(),
        # The home page's dashboard (/): a member's own open needs with their progress; its
        # matches and history name a need by title, never its point or note.
        "html_home": {"listed"},
        # The organization's page (/orgs/<owner>): its open needs, as the lists show them.
        "html_org_page": {"listed"},
    },
    "offer": {
        "api_list": {"listed", "exact_point", "exact_distance"},
        "api_detail": {"listed", "exact_point"},
        "html_list": {"listed"},
        "html_detail": {"listed", "exact_point", "other_side_name"},
        "map_data": {"listed", "exact_point"},
        "map_near": {"listed", "exact_point"},
        "csv_export": {"listed", "exact_point"},
        "xlsx_export": {"listed", "exact_point"},
        "api_need_candidates": {"listed", "exact_distance"},
        # POST /api/v1/offers/<id>/requests with an empty body: 404 for an offer the caller
        # may not see (listed: the answer is a 403 or 422, which names nothing of it).
        "api_request": {"listed"},
        "html_home": {"listed"},  # a collective's own open offers on its dashboard
        "html_org_page": {"listed"},  # the organization's page: its open offers
        # /offers/<id>/messages: a group's conversation with the offer's organization (the
        # group's own; the organization's and staff's with ?group=, the group G).
        "html_conversation": {"message_body"},
        "html_inbox": set(),
        "api_inbox": set(),
    },
    "match": {
        "api_list": MATCH_FIELDS,
        "api_detail": MATCH_FIELDS,
        # The page places the need only; its conversation shows the messages.
        "html_detail": MATCH_FIELDS - {"offer_exact_point"} | {"message_body", "hub_contact"},
        # GET /api/v1/matches/<id>/legs: the route, each leg's receiver's contact as allowed
        "api_legs": {"listed", "hub_contact"},
        "api_messages": {"listed", "message_body"},  # GET /api/v1/matches/<id>/messages
        "html_inbox": set(),  # leak checks: a message is told to the other side only
        "api_inbox": set(),
        # The coordinators' review queue (/review, filtered and sorted): a row per match
        # waiting for a coordinator, naming both sides, the distance and the score.
        "html_review": {"listed", "other_side_name", "exact_distance", "score_explanation"},
        "admin_deliveries": set(),
        # The home page's dashboard: what a side must do now and its history link to the
        # match; leak checks (no one else's match, no point, note, contact, distance, score).
        "html_home": set(),
        # The delivery slip (/matches/<id>/slip, printed: the two sides and staff open it)
        # and the receipt link's page (/r/<token>: whoever holds the paper, no account): the
        # items, the settlement and both organizations' names; never a point, a delivery
        # note, a contact, a distance or a score. The receipt page shows only what the slip
        # shows. GET /api/v1/matches/<id>/receipt and a match's photo (/photos/<id>): its
        # sides and staff.
        "html_slip": {"listed", "other_side_name"},
        "html_receipt": {"listed", "other_side_name"},
        "api_receipt": {"listed"},
        "photo": {"listed"},
    },
    "org": {
        "html_detail": {"contact", "voucher_name"},
        # Who vouched for whom: the coordinators' list (/orgs/vouches) and an organization's
        # vouches in the API (/api/v1/orgs/<id>/vouches); 403 for everyone else.
        "html_vouches": {"voucher_name"},
        "api_vouches": {"voucher_name"},
        # The coordinators' directory (/orgs: 403 for everyone else) names no contact; the
        # profile's edit page shows it to the organization's owners and staff (403 otherwise).
        "html_directory": set(),
        "html_edit": {"contact"},
        "transparency": set(),
        "ledger": set(),
        # The admins' list of accounts (/admin/users, only admins may open it) names each
        # account's organization (names, e-mails, roles), never the organization's contact.
        "admin_users": set(),
    },
}
FIELDS = {
    "need": ("listed", "exact_point", "delivery_note", "contact", "other_side_name",
             "exact_distance", "voucher_name"),
    "offer": ("listed", "exact_point", "contact", "other_side_name", "exact_distance",
              "message_body"),
    "match": ("listed", "need_exact_point", "offer_exact_point", "delivery_note",
              "group_contact", "donor_contact", "other_side_name", "exact_distance",
              "score_explanation", "message_body", "hub_contact"),
    "org": ("contact", "name", "voucher_name"),
}  # fmt: skip


def owner_of(kind: str, key: str) -> str:
    """The organization an object belongs to (a match: its donor organization)."""
    if kind == "need":
        return NEEDS[key][0]
    if kind == "offer":
        return OFFERS[key]
    if kind == "match":
        return OFFERS[MATCHES[key][1]]
    return key


def partner_status(org: str | None, kind: str, key: str) -> str | None:
    """The status of the match that puts org on the other side of this object, if any."""
    for need, offer, status in MATCHES.values():
        sides = (NEEDS[need][0], OFFERS[offer])
        if kind == "need" and key == need and org == sides[1]:
            return status
        if kind == "offer" and key == offer and org == sides[0]:
            return status
        if kind == "org" and org != key and {org, key} == set(sides):
            return status
        if kind == "match" and MATCHES[key][0] == need and org in sides:
            return status
    return None


def relation(viewer: Viewer, kind: str, key: str) -> str:
    """owner, other_side_<status>, unverified_org, unrelated; "any" for staff and anonymous."""
    if viewer.org is None:
        return "any"
    if kind != "match" and owner_of(kind, key) == viewer.org:
        return "owner"
    if kind == "offer" and (key, viewer.org) == CONVERSATION_OFFER:
        return "asking_group"
    status = partner_status(viewer.org, kind, key)
    if status is not None:
        return f"other_side_{status}"
    if kind == "match" and viewer.org in ROUTES.get(key, ()):
        return "on_route"
    if not ORGS[viewer.org][1]:
        return "unverified_org"
    return "unrelated"


def object_label(kind: str, key: str) -> str:
    """The object's kind as a row names it."""
    if kind == "need":
        if NEEDS[key][0] in VOUCHES:
            return "vouched_group_sensitive_need" if NEEDS[key][1] else "vouched_group_need"
        if NEEDS[key][1]:
            return "sensitive_need"
        return "unverified_group_need" if not ORGS[NEEDS[key][0]][1] else "need"
    if kind == "offer" and not ORGS[OFFERS[key]][1]:
        return "unverified_org_offer"
    if kind == "org" and key in VOUCHES:
        return "vouched_org"
    if kind == "org" and not ORGS[key][1]:
        return "unverified_org"
    return kind


def private_ok(viewer: Viewer, kind: str, key: str) -> bool:
    """DESIGN: exact point, delivery note, contacts: staff, owner, confirmed-or-later partner."""
    if viewer.role in STAFF:
        return True
    rel = relation(viewer, kind, key)
    return rel == "owner" or rel.removeprefix("other_side_") in REVEALED


# Surfaces that name no need, offer or match (charts, a map's outlines, the admins' lists of
# failed deliveries and of accounts).
# What a delivery slip and its receipt link show, to anyone allowed to open them at all.
PAPER = ("html_slip", "html_receipt", "api_receipt", "photo")
ON_ITS_WAY = frozenset({"confirmed", "shipped"})  # a match whose receipt link is open
NEVER_LISTED = ("transparency", "ledger", "map_page", "admin_deliveries", "admin_users")
# Where donors find a vouched group's need: the lists, its page, the map (not the group's own
# page, which is its members' and staff's while it waits; no candidate list or claim: only a
# verified group's need is claimed, matches/claims.py).
SHOWN_WHEN_VOUCHED = ("api_list", "api_detail", "html_list", "html_detail", "map_data", "map_near")


def listed(viewer: Viewer, kind: str, key: str, surface: str) -> bool:
    """Whether the object appears on that surface for that viewer at all."""
    if viewer.role == "anonymous" or surface in NEVER_LISTED:
        return False
    staff, rel = viewer.role in STAFF, relation(viewer, kind, key)
    if surface in ("csv_export", "xlsx_export"):  # one's own rows (all rows for staff)
        return staff or rel == "owner"
    if surface == "html_review":  # staff only; the matches that wait for a coordinator
        return staff and kind == "match" and MATCHES[key][2] == "pending"
    if surface == "html_home" and kind != "match":  # one's own open needs or offers only
        return rel == "owner"
    if kind == "match":  # its conversation, slip, receipt and photos are not a hub's (404)
        on_route = rel == "on_route" and surface not in ("api_messages", *PAPER)
        return staff or rel.startswith("other_side_") or on_route
    if surface == "html_request_form":  # one's own verified group's fitting open needs
        return viewer.role == "organizer" and rel == "owner" and ORGS[viewer.org][1]
    if surface == "api_need_candidates" and key not in ("O_free", "O_u"):
        return False  # only the offers that are still open candidates (not yet matched)
    if staff or rel == "owner":
        return True
    label = object_label(kind, key)
    if label == "vouched_group_need":  # to donors, where others' needs are listed
        return viewer.role == "donor" and surface in SHOWN_WHEN_VOUCHED
    if label in ("unverified_group_need", "unverified_org_offer", "vouched_group_sensitive_need"):
        return False
    if label == "sensitive_need":
        return viewer.org is not None and ORGS[viewer.org][1]
    return True


def in_conversation(viewer: Viewer, kind: str, key: str) -> bool:
    """Whether the viewer may read the object's conversation: staff, and the members of its
    two organizations (a match's sides; the offer's collective and the asking group)."""
    staff = viewer.role in STAFF
    if kind == "match":
        need, offer, _status = MATCHES[key]
        return staff or viewer.org in (NEEDS[need][0], OFFERS[offer])
    if kind == "offer" and key == CONVERSATION_OFFER[0]:
        return staff or viewer.org in (CONVERSATION_OFFER[1], OFFERS[key])
    return False  # no conversation on it


def expected(viewer: Viewer, kind: str, key: str, surface: str, field: str) -> bool | None:
    """DESIGN's answer: True shown, False hidden, None when the row does not apply (a
    viewer's own contact or name, which a page may or may not repeat)."""
    if field == "voucher_name":  # who vouched: coordinators only, where they read it
        vouched = NEEDS[key][0] if kind == "need" else key if kind == "org" else None
        if vouched not in VOUCHES:
            return None
        if viewer.role in STAFF:
            return True if kind == "org" and surface in VOUCHER_SURFACES else None
        return False
    if surface in PAPER and field not in ("listed", "other_side_name"):
        return False  # paper travels: settlement at most, no note, contact, distance, score
    if surface == "html_receipt":
        # Whoever holds the link (anyone, no account) while the match is on its way.
        return MATCHES[key][2] in ON_ITS_WAY
    if field == "message_body":
        if surface in INBOX_SURFACES:  # told to the other side (and staff taking part) only
            return None if in_conversation(viewer, kind, key) else False
        if "message_body" not in SURFACES[kind][surface]:
            return False  # lists, details, exports, maps never carry a message
        return in_conversation(viewer, kind, key) and viewer.role != "anonymous"
    if surface in INBOX_SURFACES:
        # A notification names the category, a quantity and the place, never the title,
        # point, note or contact of what it is about, whoever reads it (DESIGN, issue 13).
        return False if field in ("listed", "exact_point", "delivery_note", "contact") else None
    seen = listed(viewer, kind, key, surface)
    if field == "listed":
        return seen
    if kind == "org":
        if surface in ("transparency", "ledger"):
            return False  # no group names (none opted in), no contacts
        if field == "name":
            return None
        # The organization page: its contact to members and staff; the other side of a
        # confirmed match finds it on the match's page (the stricter of the two copies).
        return viewer.role in STAFF or relation(viewer, "org", key) == "owner"
    if kind == "match":
        need, offer, status = MATCHES[key]
        group, donor = NEEDS[need][0], OFFERS[offer]
        if field == "hub_contact":
            route = ROUTES.get(key)
            if route and viewer.org == route[1]:
                return None  # its own contact
            return seen and route is not None and (viewer.role in STAFF or viewer.org in route)
        if field in ("need_exact_point", "delivery_note"):
            return seen and private_ok(viewer, "need", need)
        if field == "offer_exact_point":
            return seen and private_ok(viewer, "offer", offer)
        if field in ("group_contact", "donor_contact"):
            this, other = (group, donor) if field == "group_contact" else (donor, group)
            if viewer.org == this:
                return None
            return seen and (viewer.role in STAFF or (viewer.org == other and status in REVEALED))
        if field == "other_side_name":
            return None if viewer.org in (group, donor) and seen else seen
        both = private_ok(viewer, "need", need) and private_ok(viewer, "offer", offer)
        return seen and both  # exact_distance, score_explanation
    if field == "other_side_name":
        # The other party of the object's match: the donor on a need, the group on an offer.
        matched = [(k, m) for k, m in MATCHES.items() if key in (m[0], m[1])]
        if not matched:
            return None
        match_key, (need, offer, _status) = matched[0]
        other = OFFERS[offer] if kind == "need" else NEEDS[need][0]
        if viewer.org == other:
            return None
        # A hub on the match's route sees the match, and so its sides, on the need's page
        # too (which lists the matches its viewer sees; an offer's lists them to its owner).
        on_route = kind == "need" and viewer.org in ROUTES.get(match_key, ())
        return seen and (viewer.role in STAFF or relation(viewer, kind, key) == "owner" or on_route)
    if field == "exact_distance" and surface in ("api_need_candidates", "api_offer_candidates"):
        pair = (
            ("need", CANDIDATES_OF_NEED, "offer", key)
            if kind == "offer"
            else ("offer", CANDIDATES_OF_OFFER, "need", key)
        )
        return seen and private_ok(viewer, *pair[:2]) and private_ok(viewer, *pair[2:])
    if field == "contact":
        return False if not private_ok(viewer, kind, key) else None
    return seen and private_ok(viewer, kind, key)


@dataclass(frozen=True)
class Row:
    """One row of the table: a sentence-like id and the cases (viewer, object) behind it."""

    id: str
    expected: bool
    cases: tuple[tuple[str, str, str, str, str], ...]  # (viewer, kind, key, surface, field)


def objects():
    """Every (kind, key) of the world."""
    yield from (("need", k) for k in NEEDS)
    yield from (("offer", k) for k in OFFERS)
    yield from (("match", k) for k in MATCHES)
    yield from (("org", k) for k in ORGS)


def build_rows() -> dict[str, Row]:
    """The whole table, by row id: role-relation-object-surface-field-shown|hidden."""
    cases: dict[str, list] = {}
    shown: dict[str, bool] = {}
    for viewer in VIEWERS:
        for kind, key in objects():
            rel = relation(viewer, kind, key)
            for surface, carried in SURFACES[kind].items():
                for field in FIELDS[kind]:
                    want = expected(viewer, kind, key, surface, field)
                    if want is None or (want and field not in carried):
                        continue
                    if field == "exact_distance" and field not in carried:
                        continue  # a distance from what: only lists near a place have one
                    row_id = "-".join(
                        (viewer.role, rel, object_label(kind, key), surface, field,
                         "shown" if want else "hidden")
                    )  # fmt: skip
                    cases.setdefault(row_id, []).append((viewer.key, kind, key, surface, field))
                    shown[row_id] = want
    return {i: Row(i, shown[i], tuple(c)) for i, c in cases.items()}


ROWS = build_rows()
