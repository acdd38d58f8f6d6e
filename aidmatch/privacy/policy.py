"""The one privacy policy (DESIGN: "Location privacy"): what one viewer may see of a need, an
offer, a match or an organization. Every serializer, page, list, candidate list, CSV export,
map feed and matching run asks a :class:`Viewer`; nothing else decides.

- Rows at all: staff see every need, offer and match; a member sees its organization's rows;
  others see rows of verified organizations, and sensitive needs only when their own
  organization is verified; anonymous visitors see none (only the transparency page). A match
  is seen by staff, by its two sides, and by the organizations of its legs (hubs a shipment passes
  through: aidmatch/legs), which see it as any non-side does. The needs and offers of a suspended or rejected
  organization (orgs/lifecycle.WITHDRAWN) leave every list, map, candidate list and matching
  run, for staff too (``in_play``); staff still open each by its address, and its own members
  still see them. Donors also see the non-sensitive needs of an unverified group that is
  vouched for (orgs/vouches.vouched_clause) while VOUCHED_NEEDS_SHOWN is on (the default):
  the badge, never who vouched; sensitive needs wait for a coordinator. A match's
  conversation is seen as the match is (an offer's conversation: by staff, the offer's
  organization and the group that writes).
- Exact point, delivery note and contacts: staff, the owning organization, and the other side
  of a match that is confirmed (or later: shipped, delivered). A hub on a match's route is no
  side: it gets the settlement, never the group's point, note or contact, nor what the sides
  typed (``sees_match_notes``). A leg's receiver's contact (a hub's address), carrier,
  tracking and note are seen by the two organizations of that leg and staff
  (``sees_leg_details``). A group's payment details go to staff, the group and a collective
  whose money pledge a coordinator confirmed (``sees_payment_details``), like a contact; a
  pledge to its two sides and staff (``sees_pledge``; both in privacy/money.py). Everyone else gets the settlement, the oblast and the coarse point
  (a ~10 km grid cell centre). A posting whose organization gave only its settlement is at
  the settlement's centre, and every viewer is told so (``Viewer.point``'s kind): never
  "exact point" for it.
- Distances for a viewer without the exact point are measured from the coarse point and
  rounded to 5 km; "within N km" filters and "reaches" use the coarse point for them too.
- A match's score and the closeness part of its explanation are shown only to a viewer who may
  see both exact points: with the offer's public radius they give the exact distance away.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, false, or_, select, true, union_all
from sqlalchemy.orm import aliased

from aidmatch.geo import GRID_KM, haversine_km, round_distance_km
from aidmatch.permissions import Role, is_staff
from aidmatch.privacy.money import MoneyPolicy
from aidmatch.transaction import on_retry

# What a shown point is (Viewer.point's "kind"): the organization's own point, its
# settlement's centre (it gave no point), or the ~10 km cell of a point the viewer may not see.
POINT_EXACT, POINT_SETTLEMENT_CENTRE, POINT_AREA = "exact", "settlement_centre", "area"


class _MatchTable:
    """The matches as the policy reads them. The policy sits below the domains it protects and
    imports none of them: aidmatch.matches.models hands over its model when it is imported."""

    match = None  # the Match model
    need = None  # the Need model
    revealed: tuple = ()  # the statuses that show each side the other's point and contact


_matches = _MatchTable()


class _LegTable:
    """The legs of shipments (aidmatch.legs.models hands over its model when imported)."""

    leg = None


_legs = _LegTable()


def read_legs_from(leg_model) -> None:
    """Tell the policy which model holds the legs of shipments (aidmatch.legs.models calls it
    once, on import): their organizations see the match."""
    _legs.leg = leg_model


def read_matches_from(match_model, need_model, revealed) -> None:
    """Tell the policy which model holds matches and needs, and which match statuses reveal
    the two sides to each other (aidmatch.matches.models calls it once, on import)."""
    _matches.match, _matches.need, _matches.revealed = match_model, need_model, tuple(revealed)


def _setting(name: str, default):
    """An app setting (its default outside an app)."""
    from flask import current_app, has_app_context

    return current_app.config.get(name, default) if has_app_context() else default


def in_play():
    """SQL: the organization's needs and offers take part (listed, matched, run): its state is
    not withdrawn (suspended or rejected; orgs/lifecycle.py). The statement joins
    organizations. For viewers other than staff and the organization's members, rows_clause
    asks more (a verified organization), which implies it."""
    from aidmatch.orgs.lifecycle import WITHDRAWN
    from aidmatch.orgs.models import Organization

    return Organization.state.not_in(sorted(WITHDRAWN))


class Viewer(MoneyPolicy):
    """One user's view of the data (None or an anonymous user: the public's)."""

    def __init__(self, user):
        authenticated = bool(user is not None and getattr(user, "is_authenticated", False))
        self.user = user if authenticated else None
        self.staff = is_staff(self.user)
        self.org_id = self.user.organization_id if self.user is not None else None
        org = self.user.organization if self.user is not None else None
        self.org_verified = bool(org is not None and org.verified_at is not None)
        # A donor sees a vouched group's non-sensitive needs (the setting, on by default).
        self.sees_vouched = bool(
            self.user is not None
            and self.user.role == Role.DONOR
            and _setting("VOUCHED_NEEDS_SHOWN", True)
        )
        self._exact: dict[tuple[str, int], bool] = {}
        self._vouched: frozenset[int] | None = None

    def __repr__(self) -> str:
        who = "staff" if self.staff else f"org {self.org_id}" if self.org_id else "public"
        return f"<Viewer {who}>"

    # --- which rows at all ----------------------------------------------------------------

    def rows_clause(self, model, *, sensitive_column=None, listing: bool = True):
        """The SQL condition under which this viewer may see a row of model (Need or Offer);
        the statement must join model.organization. ``listing``: for a list (pages, API, CSV,
        map), where a withdrawn organization's rows are out for staff too; False for one row
        opened by its address."""
        from aidmatch.orgs.models import Organization

        if self.user is None:
            return false()
        if self.staff:
            return in_play() if listing else true()
        public = Organization.verified_at.is_not(None)
        if sensitive_column is not None and not self.org_verified:
            public = and_(public, sensitive_column.is_(False))
        needs = sensitive_column is not None
        vouched = self.waiting_vouched() if needs and self.sees_vouched else ()
        if vouched:
            waiting = Organization.id.in_(sorted(vouched))
            public = or_(public, and_(sensitive_column.is_(False), waiting))
        return or_(model.organization_id == self.org_id, public)

    def sees_row(self, obj, *, sensitive: bool = False) -> bool:
        """rows_clause for one loaded need or offer (sensitive: the need's flag), where no
        statement is at hand (what a notification may name of it)."""
        if self.user is None:
            return False
        if self.staff or (self.org_id is not None and obj.organization_id == self.org_id):
            return True
        if obj.organization.verified_at is None:
            is_need = getattr(obj, "sensitive", None) is not None
            return bool(
                self.sees_vouched
                and is_need
                and not sensitive
                and self.vouched(obj.organization_id)
            )
        return not sensitive or self.org_verified

    def waiting_vouched(self) -> frozenset[int]:
        """The groups waiting for a coordinator that are vouched for (the badge; a donor's
        lists add their non-sensitive needs while sees_vouched): orgs/vouches.waiting_vouched_ids,
        read once per viewer."""
        if self._vouched is None:
            from aidmatch.orgs.vouches import waiting_vouched_ids

            self._vouched = waiting_vouched_ids()
        return self._vouched

    def vouched(self, org_id: int | None) -> bool:
        """Whether this organization, waiting for a coordinator, shows donors the badge."""
        return org_id is not None and org_id in self.waiting_vouched()

    def matches_clause(self):
        """The SQL condition of the matches this viewer may see: staff all, others either side
        or an organization of one of its legs."""
        if self.staff:
            return true()
        if _legs.leg is None or self.org_id is None:
            return side_condition(self.org_id)
        return or_(side_condition(self.org_id), route_condition(self.org_id))

    def is_side(self, match) -> bool:
        """The viewer belongs to the donor organization or to the group of this match."""
        return self.org_id is not None and self.org_id in (
            match.organization_id,
            match.need.organization_id,
        )

    def _has_leg(self, match, where) -> bool:
        """Whether a leg of this match fits these conditions (on the model legs hands over)."""
        if self.org_id is None or _legs.leg is None:
            return False
        from aidmatch.extensions import db

        leg = _legs.leg
        found = db.session.scalar(
            select(leg.id).where(leg.match_id == match.id, *where(leg)).limit(1)
        )
        return found is not None

    def is_on_route(self, match) -> bool:
        """The viewer belongs to an organization a leg of this match comes from or goes to."""
        return self._has_leg(
            match, lambda leg: [or_(leg.from_org_id == self.org_id, leg.to_org_id == self.org_id)]
        )

    def sees_match(self, match) -> bool:
        """Staff, the two sides and the organizations of its legs see a match; for anyone else
        it does not exist."""
        return self.staff or self.is_side(match) or self.is_on_route(match)

    def sees_match_notes(self, match) -> bool:
        """What the sides typed on a match (shipping note, tracking, receipt note) and its
        history: staff and the two sides, not a hub on its route."""
        return self.staff or self.is_side(match)

    def receives_on_route(self, match) -> bool:
        """The viewer belongs to the organization a leg of this match is on its way to (it
        confirms that hand-off, on the match page or on the slip)."""
        return self._has_leg(
            match, lambda leg: [leg.to_org_id == self.org_id, leg.status == "on_the_way"]
        )

    def sees_slip(self, match) -> bool:
        """A match's delivery slip: who sees its photos, and the receiver of a leg on its way
        (the facts the paper carries, to confirm its hand-off there); the slip's receipt link,
        whose QR code signs for the group, only who sees the photos (sees_photos)."""
        return self.sees_photos(match) or self.receives_on_route(match)

    def sees_photos(self, match) -> bool:
        """A match's photos (delivery proof, damage), its delivery slip (whose QR code signs for
        the group) and its receipt: staff and its two sides; nobody else (not a hub on its
        route, not the public, not the transparency page), not even that they exist."""
        return self.staff or self.is_side(match)

    @staticmethod
    def paper_title(need) -> str | None:
        """What a delivery slip (and its receipt page, which anyone holding the link opens)
        may print of a need's title: nothing of a sensitive need, as paper travels."""
        return None if need.sensitive else need.title

    def sees_leg_details(self, leg) -> bool:
        """A leg's private details (its receiver's contact: a hub's address; carrier, tracking
        and the receiver's note: a tracking number leads to an address): staff and the two
        organizations of that leg."""
        return self.staff or (
            self.org_id is not None and self.org_id in (leg.from_org_id, leg.to_org_id)
        )

    def sees_conversation(self, party_org_ids: Iterable[int | None]) -> bool:
        """A conversation's messages (a match's, or an offer's between its organization and
        one group): staff and the members of its two organizations; nobody else, not even
        that it exists."""
        return self.staff or (self.org_id is not None and self.org_id in set(party_org_ids))

    def is_revealed_side(self, match) -> bool:
        """A side of a confirmed (or later) match: it sees the other side's contact and point."""
        return match.status in _matches.revealed and self.is_side(match)

    # --- exact points ---------------------------------------------------------------------

    def exact_ids(self, objs: Iterable, kind: str = "") -> set[int]:
        """The ids among objs (all needs or all offers: models, or rows with id and
        organization_id of the kind "Need" or "Offer") whose exact point this viewer may see,
        in at most one query (lists must not ask once per row); remembered for the request."""
        objs = [o for o in objs if o is not None]
        if not objs:
            return set()
        kind = kind or type(objs[0]).__name__
        unknown = [o for o in objs if (kind, o.id) not in self._exact]
        if unknown:
            allowed = self._decide_exact(kind, unknown)
            self._exact.update({(kind, o.id): o.id in allowed for o in unknown})
        return {o.id for o in objs if self._exact[(kind, o.id)]}

    def _decide_exact(self, kind: str, objs: list) -> set[int]:
        if self.staff:
            return {o.id for o in objs}
        own = {o.id for o in objs if self.org_id is not None and o.organization_id == self.org_id}
        others = [o.id for o in objs if o.id not in own]
        if not others or self.org_id is None:
            return own
        from aidmatch.extensions import db

        Match, Need = _matches.match, _matches.need  # noqa: N806 (models)
        if kind == "Need":
            stmt = select(Match.need_id).where(
                Match.need_id.in_(others), Match.organization_id == self.org_id
            )
        else:
            stmt = select(Match.offer_id).where(
                Match.offer_id.in_(others),
                Match.need.has(Need.organization_id == self.org_id),
            )
        return own | set(db.session.scalars(stmt.where(Match.status.in_(_matches.revealed))))

    def sees_exact(self, obj) -> bool:
        """May this viewer see obj's (a need's or an offer's) exact point and private note?"""
        return obj is not None and obj.id in self.exact_ids([obj])

    def point(self, obj, exact: bool | None = None) -> dict:
        """{"lat", "lon", "precision_km", "kind"}: the stored point (precision 0) or the coarse
        one, and what the point is, said alike to every viewer: "exact" (a point the
        organization set, shown as it is), "settlement_centre" (the organization gave only its
        settlement: the point is the settlement's centre, whatever precision this viewer gets
        it in) or "area" (a point the organization set, which this viewer gets only as its
        ~10 km cell)."""
        if exact is None:
            exact = self.sees_exact(obj)
        kind = POINT_EXACT if exact else POINT_AREA
        if not obj.point_set:
            kind = POINT_SETTLEMENT_CENTRE
        if exact:
            return {"lat": obj.lat, "lon": obj.lon, "precision_km": 0, "kind": kind}
        return {"lat": obj.public_lat, "lon": obj.public_lon, "precision_km": GRID_KM, "kind": kind}

    def known_point(self, obj, exact: bool | None = None) -> tuple[float, float]:
        """Where obj is as far as this viewer may know: the point that decides reach and
        distances for it."""
        if exact is None:
            exact = self.sees_exact(obj)
        return (obj.lat, obj.lon) if exact else (obj.public_lat, obj.public_lon)

    def distance_km(self, obj, lat: float, lon: float, exact: bool | None = None) -> float:
        """Distance from (lat, lon) to obj as this viewer may know it: exact to 0.1 km, or from
        the coarse point rounded to 5 km."""
        if exact is None:
            exact = self.sees_exact(obj)
        if exact:
            return round(haversine_km(lat, lon, obj.lat, obj.lon), 1)
        return round_distance_km(haversine_km(lat, lon, obj.public_lat, obj.public_lon))

    def filter_point(self, model) -> tuple:
        """SQL columns of the point that "within N km" filters and "closest" sorting use: the
        exact point for staff, the coarse one for everyone else, whose rows they are included
        (one filter for the whole list, which the (public_lat, public_lon) index serves; the
        distances shown per row still follow exact_ids)."""
        if self.staff:
            return model.lat, model.lon
        return model.public_lat, model.public_lon

    # --- private fields -------------------------------------------------------------------

    def delivery_note(self, need, exact: bool | None = None) -> str | None:
        """The need's private delivery note, or None for a viewer who may not see it."""
        if exact is None:
            exact = self.sees_exact(need)
        return need.delivery_note if exact else None

    def sees_contact(self, match, org) -> bool:
        """An organization's contact on a match: to staff, and to the other side once the match
        is confirmed (one's own contact needs no showing)."""
        if self.staff:
            return True
        if self.org_id is not None and self.org_id == org.id:
            return False
        return self.is_revealed_side(match)

    def match_contacts(self, match) -> dict:
        """The contacts an API reader of this match may see: both for staff, the other side's
        for a side of a confirmed match, none otherwise."""
        donor, group = match.organization, match.need.organization
        if self.staff:
            return {"contacts": {"donor": donor.contact, "group": group.contact}}
        if self.is_revealed_side(match):
            other = group if self.org_id == donor.id else donor
            return {"contact": other.contact}
        return {}

    def sees_both_points(self, match, exact_need: bool | None = None, exact_offer=None) -> bool:
        """May this viewer see the exact points of both the need and the offer of the match
        (the condition for an exact distance, the score and its closeness part)?"""
        if exact_need is None:
            exact_need = self.sees_exact(match.need)
        if match.offer is None:
            return exact_need
        if exact_offer is None:
            exact_offer = self.sees_exact(match.offer)
        return bool(exact_need and exact_offer)

    def match_distance(self, match, both: bool | None = None) -> float | None:
        """The distance between a match's offer and need as this viewer may know it: the
        stored exact one, or the need's coarse point to the offer's point as known, rounded."""
        if both is None:
            both = self.sees_both_points(match)
        if both:
            return match.distance_km
        if match.offer is None:
            return None
        lat, lon = self.known_point(match.offer)
        return self.distance_km(match.need, lat, lon, exact=False)

    def explanation(self, explanation: dict | None, both: bool, distance: float | None) -> dict:
        """An engine explanation ({"score", "parts", "facts"}) as this viewer may see it:
        whole for who sees both exact points; for anyone else without the score and the
        closeness part, and with the distance as they may know it (rounded)."""
        if not isinstance(explanation, dict) or both:
            return explanation or {}
        shown = {k: v for k, v in explanation.items() if k != "score"}
        facts = explanation.get("facts")
        if isinstance(facts, dict):
            shown["facts"] = {**facts, "distance_km": distance, "distance_rounded": True}
        parts = explanation.get("parts")
        if isinstance(parts, dict):
            shown["parts"] = {k: v for k, v in parts.items() if k != "closeness"}
        return shown


def side_condition(org_id: int | None):
    """SQL: the matches this organization is on either side of (none for no organization)."""
    if org_id is None:
        return false()
    Match, Need = _matches.match, _matches.need  # noqa: N806 (models)
    # The ids of its matches as a donor, then as the group (need_id IN its needs), each read
    # off its own index: neither EXISTS per match nor an OR, which both databases can only
    # test on every match in the network (PostgreSQL guessed half of them matched, and
    # joined every need to find a busy donor's 20 latest).
    either = aliased(Match)
    as_donor = select(either.id).where(either.organization_id == org_id)
    as_group = select(either.id).where(
        either.need_id.in_(select(Need.id).where(Need.organization_id == org_id))
    )
    return Match.id.in_(union_all(as_donor, as_group))


def route_condition(org_id: int):
    """SQL: the matches one of whose legs this organization sends or receives."""
    Match, Leg = _matches.match, _legs.leg  # noqa: N806 (models)
    return Match.id.in_(
        select(Leg.match_id).where(or_(Leg.from_org_id == org_id, Leg.to_org_id == org_id))
    )


@on_retry
def _forget_answers() -> None:
    """A request run again after a deadlock starts from fresh rows: and from fresh answers."""
    from flask import g, has_request_context

    if has_request_context():
        g.pop("privacy_viewer", None)


def viewer_for(user) -> Viewer:
    """The policy for this user, one per request (its answers are remembered for the request);
    outside a request a new one."""
    from flask import g, has_request_context

    if not has_request_context():
        return Viewer(user)
    cached = g.get("privacy_viewer")
    user_id = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
    if cached is None or cached[0] != user_id:
        cached = (user_id, Viewer(user))
        g.privacy_viewer = cached
    return cached[1]
