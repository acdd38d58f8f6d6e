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
# which has yet to confirm it. A hub on a match's route sees the match as a non-side does
# (names, settlement; never the group's point, note or contact, nor the conversation), and a
# leg's receiver's contact (the hub's address) is seen by the leg's two organizations and
# staff. The receiver of a leg on its way opens the match's slip to confirm it there: the
# paper's facts, never the receipt link, photos or receipt.
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
# The offer that repeats every month (aidmatch/recurring): what comes regularly and when the
# next one is due is shown to whoever sees the offer; its record of periods (what each made
# available, left unused, whether it was missed) to its collective and staff only.
RECURRING_OFFER = "O_free"
# Money (aidmatch/money): the collective of each of these matches pledges money monthly to the
# same need, which G priced; a coordinator confirms P_confirmed only. G set its payment details
# (IBAN, card, link) and reported what the money on N_confirmed bought, with a receipt photo,
# weeks ago; D_x runs a public fundraiser for N_confirmed (G does not allow being named).
# Payment details: staff, the group, and the pledger of a confirmed pledge (like a contact);
# a pledge: its two sides and staff; the receipt photo: staff, the group and its confirmed
# pledgers; the fundraiser (anyone, no account) names no pledger, no group, no payment detail.
PLEDGES = {
    "P_confirmed": ("N_confirmed", "D_confirmed", "confirmed"),
    "P_pending": ("N_pending", "D_pending", "pending"),
}
FUNDRAISER = ("D_x", "N_confirmed")
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
        # The HXL export (?hxl=1, issue 18): the same rows, found by id (a sensitive need's
        # title is left out); settlement and P-codes, never a point, a note or a contact.
        "hxl_export": {"listed"},
        # The public dataset per hromada and month (/transparency/deliveries.hxl.csv).
        "hxl_dataset": set(),
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
        # A report (REPORT_OF): figures per category, oblast and month; leak checks only.
        "html_report": set(),
        "pdf_report": set(),
    },
    "offer": {
        "api_list": {"listed", "exact_point", "exact_distance"},
        "api_detail": {"listed", "exact_point"},
        "html_list": {"listed"},
        "html_detail": {"listed", "exact_point", "other_side_name", "period_record"},
        # GET /api/v1/offers/<id>/recurrence (404 for an offer that does not repeat)
        "api_recurrence": {"listed", "period_record"},
        "map_data": {"listed", "exact_point"},
        "map_near": {"listed", "exact_point"},
        "csv_export": {"listed", "exact_point"},
        "xlsx_export": {"listed", "exact_point"},
        "hxl_export": {"listed"},
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
        # /matches/deliveries.csv: the delivered matches of staff and of the two sides, with
        # both names; with ?hxl=1 a file to pass on: published deliveries only (the
        # transparency delay), naming only who chose to be named (no one in this world).
        # Never a point, a note, a contact, a distance or a score.
        "deliveries_csv": {"listed", "other_side_name"},
        "deliveries_hxl": {"listed"},
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
        # Where a signed receipt leads (/r/<token>/signed; before it is signed, back to the
        # form): thanks, and nothing of the match, to whoever holds the paper. What the
        # signer typed is said once, in the signer's own session (a flash).
        "html_receipt_signed": set(),
        "api_receipt": {"listed"},
        "photo": {"listed"},
        # A report names no match, side, point, note, contact, distance or score.
        "html_report": set(),
        "pdf_report": set(),
    },
    "pledge": {
        "api_pledge": {"listed", "payment_details"},  # GET /api/v1/money-pledges/<id>
        "api_money": {"listed", "payment_details"},  # GET /api/v1/needs/<need>/money
        "html_money": {"listed", "payment_details"},  # /needs/<need>/money
        "receipt_photo": {"listed"},  # /money/receipts/<id>: what N_confirmed's money bought
        "fundraiser": set(),  # /f/<slug>: leak checks only (a pledger's or group's name)
        "api_fundraiser": set(),  # GET /api/v1/fundraisers/<slug>
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
        "hxl_dataset": set(),
        # The admins' list of accounts (/admin/users, only admins may open it) names each
        # account's organization (names, e-mails, roles), never the organization's contact.
        "admin_users": set(),
        # A report (the page made for printing and its PDF) names the organization it is of,
        # and a group only where the transparency page would: none of the world opted in.
        "html_report": set(),
        "pdf_report": set(),
    },
}
FIELDS = {
    "need": ("listed", "exact_point", "delivery_note", "contact", "other_side_name",
             "exact_distance", "voucher_name"),
    "offer": ("listed", "exact_point", "contact", "other_side_name", "exact_distance",
              "message_body", "period_record"),
    "match": ("listed", "need_exact_point", "offer_exact_point", "delivery_note",
              "group_contact", "donor_contact", "other_side_name", "exact_distance",
              "score_explanation", "message_body", "hub_contact"),
    "org": ("contact", "name", "voucher_name"),
    "pledge": ("listed", "payment_details", "group_name"),
}  # fmt: skip


def owner_of(kind: str, key: str) -> str:
    """The organization an object belongs to (a match: its donor organization)."""
    if kind == "need":
        return NEEDS[key][0]
    if kind == "offer":
        return OFFERS[key]
    if kind == "match":
        return OFFERS[MATCHES[key][1]]
    if kind == "pledge":
        return PLEDGES[key][1]
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
    if kind == "pledge" and NEEDS[PLEDGES[key][0]][0] == viewer.org:
        return "group_of_need"
    if kind == "pledge":
        return "unrelated" if ORGS[viewer.org][1] else "unverified_org"
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
    if kind == "pledge":
        return f"{PLEDGES[key][2]}_money_pledge"
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
PAPER = ("html_slip", "html_receipt", "html_receipt_signed", "api_receipt", "photo")
ON_ITS_WAY = frozenset({"confirmed", "shipped"})  # a match whose receipt link is open
# (The HXL file of deliveries holds those the transparency page publishes: the world's app
# publishes at once, so its delivered match is there, for staff and the two sides.)
NEVER_LISTED = (
    "transparency", "ledger", "hxl_dataset", "map_page", "admin_deliveries", "admin_users",
    "html_report", "pdf_report",
)  # fmt: skip
# Files made to be passed on (HXL): the row at most, nothing private, no name (none chose).
SHARED_FILES = ("hxl_export", "deliveries_hxl", "hxl_dataset")
# The reports each viewer opens (/reports/...): a member its own organization's (a group's
# is refused: 403), staff the network's page and REPORT_OF_STAFF's PDF; a visitor none.
REPORTS = ("html_report", "pdf_report")
REPORT_OF_STAFF = "D_delivered"
# Where donors find a vouched group's need: the lists, its page, the map (not the group's own
# page, which is its members' and staff's while it waits; no candidate list or claim: only a
# verified group's need is claimed, matches/claims.py).
SHOWN_WHEN_VOUCHED = ("api_list", "api_detail", "html_list", "html_detail", "map_data", "map_near")


def listed(viewer: Viewer, kind: str, key: str, surface: str) -> bool:
    """Whether the object appears on that surface for that viewer at all."""
    if viewer.role == "anonymous" or surface in NEVER_LISTED:
        return False
    staff, rel = viewer.role in STAFF, relation(viewer, kind, key)
    if surface == "hxl_export":  # a file to pass on (postings/hxl.shared_row): own rows and
        label = object_label(kind, key)  # staff's, never a sensitive need, nor a row of a
        if "sensitive" in label:  # group not verified but one's own
            return False
        unverified = label in (
            "unverified_group_need",
            "vouched_group_need",
            "unverified_org_offer",
        )
        return rel == "owner" or (staff and not unverified)
    if surface in ("csv_export", "xlsx_export"):  # own rows (staff: all)
        return staff or rel == "owner"
    if surface in ("deliveries_csv", "deliveries_hxl"):  # delivered; staff's and the sides'
        return (staff or rel.startswith("other_side_")) and MATCHES[key][2] == "delivered"
    if surface == "html_review":  # staff only; the matches that wait for a coordinator
        return staff and kind == "match" and MATCHES[key][2] == "pending"
    if surface == "html_home" and kind != "match":  # one's own open needs or offers only
        return rel == "owner"
    if kind == "match":  # its conversation, receipt and photos are not a hub's (404)
        on_route = rel == "on_route" and surface not in ("api_messages", *PAPER)
        # its slip: the hub a leg is on its way to (every leg of ROUTES is)
        receiving = surface == "html_slip" and viewer.org == ROUTES.get(key, (None, None))[1]
        return staff or rel.startswith("other_side_") or on_route or receiving
    if surface == "html_request_form":  # one's own verified group's fitting open needs
        return viewer.role == "organizer" and rel == "owner" and ORGS[viewer.org][1]
    if surface == "api_recurrence" and key != RECURRING_OFFER:
        return False  # it does not repeat: 404 for everyone
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


def report_subject(viewer: Viewer, surface: str) -> str | None:
    """The organization the viewer's report (REPORTS) is of, which it names."""
    if viewer.org is not None:
        return viewer.org
    return REPORT_OF_STAFF if viewer.role in STAFF and surface == "pdf_report" else None


def sides_of(kind: str, key: str) -> set[str]:
    """The organizations on the two sides of an object's matches (a match's own two)."""
    return {
        side
        for match_key, (need, offer, _status) in MATCHES.items()
        if key in (need, offer, match_key)
        for side in (NEEDS[need][0], OFFERS[offer])
    }


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


def expected_money(viewer: Viewer, key: str, surface: str, field: str) -> bool | None:
    """A money pledge: listed to its two sides and staff; the group's payment details to
    staff, the group and the pledger once a coordinator confirmed its pledge; the receipt photo
    of what the money bought to staff, the group and its confirmed pledgers; a fundraiser
    shows none of it (no pledger, no group that did not allow it, no payment detail)."""
    need, pledger, status = PLEDGES[key]
    group = NEEDS[need][0]
    staff = viewer.role in STAFF
    if surface in ("fundraiser", "api_fundraiser"):
        return False
    if field == "group_name":
        return None  # the group's own pages may name it
    party = staff or viewer.org in (group, pledger)
    if surface == "receipt_photo":  # only N_confirmed's money bought something
        if need != FUNDRAISER[1]:
            return None
        return field == "listed" and party
    if field == "listed":
        return party
    return staff or viewer.org == group or (viewer.org == pledger and status == "confirmed")


def expected(viewer: Viewer, kind: str, key: str, surface: str, field: str) -> bool | None:
    """DESIGN's answer: True shown, False hidden, None when the row does not apply (a
    viewer's own contact or name, which a page may or may not repeat)."""
    if kind == "pledge":
        return expected_money(viewer, key, surface, field)
    if field == "voucher_name":  # who vouched: coordinators only, where they read it
        vouched = NEEDS[key][0] if kind == "need" else key if kind == "org" else None
        if vouched not in VOUCHES:
            return None
        if viewer.role in STAFF:
            return True if kind == "org" and surface in VOUCHER_SURFACES else None
        return False
    if surface in PAPER and field not in ("listed", "other_side_name"):
        return False  # paper travels: settlement at most, no note, contact, distance, score
    # (A need's or an offer's other side: as below, never carried.)
    if (
        surface in SHARED_FILES
        and field != "listed"
        and (field != "other_side_name" or kind == "match")
    ):
        return False
    if surface == "deliveries_csv" and field not in ("listed", "other_side_name"):
        return False  # the names of both sides, to them and staff; nothing private
    if surface == "html_receipt_signed":
        return False  # names nothing of the match, to anyone
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
    subject = report_subject(viewer, surface) if surface in REPORTS else None
    if field == "other_side_name" and subject in sides_of(kind, key):
        return None  # the organization the report is of
    seen = listed(viewer, kind, key, surface)
    if field == "listed":
        return seen
    if field == "period_record":
        if key != RECURRING_OFFER:
            return None
        return seen and (viewer.role in STAFF or relation(viewer, kind, key) == "owner")
    if kind == "org":
        if surface in ("transparency", "ledger", "hxl_dataset"):
            return False  # no group names (none opted in), no contacts
        if surface in REPORTS and field == "name":
            # A report names the organization it is of (one's own; staff's PDF: REPORT_OF_STAFF).
            staff_pdf = viewer.role in STAFF and surface == "pdf_report" and key == REPORT_OF_STAFF
            return None if viewer.org == key or staff_pdf else False
        if surface in REPORTS:
            return False
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
    yield from (("pledge", k) for k in PLEDGES)


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
