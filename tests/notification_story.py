"""A world full of secrets, and a story through the real verbs, jobs and views that makes every
kind of notification (tests/test_notification_privacy.py reads what reached whom).

The world: a SENSITIVE need of a frontline group in Zorianivka (Donetsk Oblast) at an exact
point with six decimals, its title, description and delivery note made of words found nowhere
else, the organizations' contacts likewise; an organizer (uk), a donor (de), a coordinator (en),
an admin (uk), the member of an organization verified during the story (en), the member of a
border hub a shipment passes through (de) and a donor of an organization that stays
unverified (de). Each has an e-mail address, a linked Telegram chat
and every kind switched on on every channel, so that each notification goes wherever it can.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update

from aidmatch.auth.models import User
from aidmatch.conversations import operations as conversations
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import run_now
from aidmatch.legs import operations as legs
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchSource
from aidmatch.matches.reminders import PENDING_REMINDER_BEFORE, SHIP_REMINDER_AT
from aidmatch.money import operations as money_ops
from aidmatch.money.spending import report_spending
from aidmatch.needs.models import Need
from aidmatch.needs.operations import cancel_need
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.models import Channel, Preference
from aidmatch.orgs.models import Organization, OrgKind, OrgRole
from aidmatch.orgs.operations import create_organization, decide, verify_organization
from aidmatch.orgs.payment import set_payment_details
from aidmatch.orgs.vouches import vouch
from aidmatch.permissions import Role
from aidmatch.receipts import operations as receipts
from aidmatch.recurring.operations import make_recurring
from aidmatch.runs.job import run_matching
from aidmatch.runs.models import RunStatus
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

SETTLEMENT, SETTLEMENT_UK = "Zorianivka", "Зорянівка"
OBLAST = "Donetsk Oblast"
NEED_POINT = (48.123457, 37.654321)
OFFER_POINT = (49.876543, 36.345678)
OUTSIDER_POINT = (50.234567, 30.765432)
NEED = {
    "title": "Vexquill generators for the mortar crew",
    "description": "Brindlemoss units, two of them for the dugout",
    "delivery_note": "Xanthorpe cellar behind the pharmacy, knock twice",
}
GROUP_CONTACT = "Signal +380 67 318 2749, ask for Quokkaberry"
DONOR_CONTACT = "WhatsApp +49 151 2468 1357, Fernwobble"
OUTSIDER_CONTACT = "Threema Wimbletusk +48 600 731 904"
HUB_CONTACT = "Gate 7 of the Brackenfold depot, +48 22 845 6612"
HUB_TRACKING = "HUB 4471 9920 3385"
OFFER = {"title": "Glimmerfax generator lot", "description": "Snorkelwit spare parts"}
OUTSIDER_OFFER = {"title": "Ozzlethorp generators", "description": "Pemmicrust spares"}
SHIPPING_NOTE, TRACKING = "Plinthaway courier van", "NP 5917 3308 4426"
RECEIPT_NOTE = "Drumlinook: three units were missing"
# Everything a notification must never carry, as written (the digits of phones also without
# their spaces: a lock screen shows them either way).
SECRET_WORDS = (
    *NEED.values(),
    "Vexquill",
    "Brindlemoss",
    "Xanthorpe",
    GROUP_CONTACT,
    "Quokkaberry",
    "318 2749",
    "3182749",
    DONOR_CONTACT,
    "Fernwobble",
    "2468 1357",
    "24681357",
    OUTSIDER_CONTACT,
    "Wimbletusk",
    HUB_CONTACT,
    "Brackenfold",
    "845 6612",
    HUB_TRACKING,
    "4471 9920",
    "731 904",
    *OFFER.values(),
    "Glimmerfax",
    "Snorkelwit",
    *OUTSIDER_OFFER.values(),
    "Ozzlethorp",
    "Pemmicrust",
    SHIPPING_NOTE,
    "Plinthaway",
    TRACKING,
    "5917 3308",
    "591733084426",
    RECEIPT_NOTE,
    "Drumlinook",
)


@dataclass
class Story:
    need: Need
    organizer: User
    donor: User
    coordinator: User
    admin: User
    newcomer: User  # a member of the organization verified in the story
    outsider: User  # a donor of an organization that stays unverified
    hub: User  # a member of a border hub a shipment passes through
    offers: list = field(default_factory=list)
    # Every datetime a match or the need had (deadlines before and after each move).
    times: list[datetime] = field(default_factory=list)

    @property
    def people(self) -> list[User]:
        return [
            self.organizer,
            self.donor,
            self.coordinator,
            self.admin,
            self.newcomer,
            self.hub,
            self.outsider,
        ]

    def seen(self, *matches: Match) -> None:
        for match in matches:
            db.session.refresh(match)
            for name in ("expires_at", "confirmed_at", "shipped_at", "delivered_at"):
                value = getattr(match, name)
                if value is not None:
                    self.times.append(value)


def person(role: Role, org, language: str, chat_id: int, email: str) -> User:
    """A user reachable everywhere, with every kind switched on on every channel."""
    user = make_user(role, org=org, email=email, language=language, telegram_chat_id=chat_id)
    for kind in KINDS:
        for channel in Channel:
            db.session.add(Preference(user_id=user.id, kind=kind, channel=channel, enabled=True))
    db.session.flush()
    return user


def build() -> Story:
    """The world, committed."""
    group = make_org("Frontline crew", contact=GROUP_CONTACT)
    donors = make_org("Donors of Leipzig", kind=OrgKind.DONOR_COLLECTIVE, contact=DONOR_CONTACT)
    organizer = person(Role.ORGANIZER, group, "uk", 9101, "olena.organizer@example.org")
    donor = person(Role.DONOR, donors, "de", 9102, "dieter.donor@example.org")
    coordinator = person(Role.COORDINATOR, None, "en", 9103, "cora.coordinator@example.org")
    admin = person(Role.ADMIN, None, "uk", 9104, "andrii.admin@example.org")
    place = make_place(SETTLEMENT, *NEED_POINT, name_uk=SETTLEMENT_UK, oblast=OBLAST)
    needed_by = (utcnow() + 30 * DAY).date().isoformat()
    need = make_need(
        group,
        organizer,
        place,
        category="generators",
        quantity=100,
        sensitive=True,
        needed_by=needed_by,
        **NEED,
    )
    depot = make_place("Depot test", *OFFER_POINT, oblast="Kharkiv Oblast")
    offer = make_offer(donors, donor, depot, category="generators", quantity=500, **OFFER)
    db.session.commit()
    hub_org = make_org("Border hub of Medyka", kind=OrgKind.HUB, contact=HUB_CONTACT)
    hub = person(Role.DONOR, hub_org, "de", 9107, "hanna.hub@example.org")
    db.session.commit()
    story = Story(need, organizer, donor, coordinator, admin, None, None, hub, [offer])
    story.times.append(datetime.combine(need.needed_by, datetime.min.time()))
    return story


def new_organizations(story: Story) -> None:
    """Two organizations register (org_waiting); one is verified (org_verified), suspended
    (org_suspended) and verified again, un-verified (org_unverified) and verified again, the
    other is not verified (org_rejected), with a donor and an offer."""
    """Two organizations register (org_waiting), both vouched for by the hub; one is verified
    (org_verified), suspended (org_suspended) and verified again, the other is not verified
    (org_rejected), with a donor and an offer."""
    newcomers = create_organization("Kharkiv newcomers", OrgKind.DONOR_COLLECTIVE)
    story.newcomer = person(Role.DONOR, newcomers, "en", 9105, "nadia.newcomer@example.org")
    # The hub vouches for both newcomers: its members hear of the suspension
    # (vouched_org_suspended) and the rejection (vouched_org_rejected), the other coordinators
    # with the vouchers' names (vouched_org_withdrawn).
    story.hub.org_role = OrgRole.OWNER
    vouch(story.hub.organization, newcomers, story.hub, "Worked with them at the border")
    verify_organization(newcomers, story.coordinator, reason="Known to the Kharkiv hub")
    decide(newcomers, "suspend", story.coordinator, reason="Two groups reported them")
    verify_organization(newcomers, story.coordinator, reason="Cleared up by a phone call")
    decide(newcomers, "unverify", story.coordinator, reason="Its contact changed hands")
    verify_organization(newcomers, story.coordinator, reason="The new contact was checked")
    outsiders = create_organization(
        "Unchecked helpers", OrgKind.DONOR_COLLECTIVE, contact=OUTSIDER_CONTACT
    )
    story.outsider = person(Role.DONOR, outsiders, "de", 9106, "otto.outsider@example.org")
    vouch(story.hub.organization, outsiders, story.hub, "Met them at the border once")
    # Rejected (org_rejected) later in the story, once its stray match is confirmed: a
    # rejected collective accepts no match.
    far = make_place("Outsider test", *OUTSIDER_POINT, oblast="Kyiv Oblast")
    story.offers.append(
        make_offer(outsiders, story.outsider, far, category="generators", **OUTSIDER_OFFER)
    )
    db.session.commit()


def claimed(story: Story, quantity: int, approve: bool = False) -> Match:
    match = ops.claim_need(story.need, story.donor, quantity, offer=story.offers[0])
    if approve:
        ops.approve(match, story.coordinator)
    story.seen(match)
    return match


def run(story: Story) -> None:
    """Every path that tells anyone, each through the code that does it in production; every
    step committed as its request or job would."""
    s = story
    now = utcnow()
    # The needs' reminders, when they are due: nothing pledged, and "still needed?".
    run_now("needs.remind", now + 28 * DAY)
    new_organizations(s)

    # A matching run proposes; the donor is reminded (the coordinators too, in their inbox)
    # and accepts; a coordinator rejects.
    result = run_matching(s.coordinator, category_slug="generators")
    assert result.status == RunStatus.FINISHED and result.proposals == 1, (result.error, result)
    proposal = db.session.query(Match).filter_by(run_id=result.id).one()
    s.seen(proposal)
    run_now("matches.remind", proposal.expires_at - PENDING_REMINDER_BEFORE + HOUR)
    ops.accept(proposal, s.donor)
    db.session.commit()
    ops.reject(proposal, s.coordinator, "Another donor is closer")
    db.session.commit()

    # The group asks for the donor's offer (the donor is asked, the queue grows); the donor
    # declines, and the group that asked hears it.
    asked_for = ops.request_offer(s.offers[0], s.organizer, s.need, 4).match
    db.session.commit()
    s.seen(asked_for)
    ops.decline(asked_for, s.donor, "Not this week")
    db.session.commit()

    # Claims: delivered in full, short, declined, withdrawn.
    full = claimed(s, 10, approve=True)
    ops.ship(full, s.donor, SHIPPING_NOTE, tracking=TRACKING)
    ops.confirm_delivery(full, s.organizer, 10)
    short = claimed(s, 10, approve=True)
    ops.ship(short, s.donor, SHIPPING_NOTE, tracking=TRACKING)
    ops.confirm_delivery(short, s.organizer, 7, note=RECEIPT_NOTE)
    ops.decline(claimed(s, 5), s.donor, "Our van is booked")
    ops.withdraw(claimed(s, 5, approve=True), s.donor, "The stock went elsewhere")
    # A receipt signed at the drop point through the slip's link (the group is told), which
    # the group then disputes (the coordinators are told).
    by_link = claimed(s, 6, approve=True)
    link = receipts.make_link(by_link, s.donor)
    receipt = receipts.sign(
        link,
        by_link,
        {"condition": "less", "quantity_received": "5", "note": RECEIPT_NOTE, "signer_name": "P"},
        "story-receipt",
    )
    receipts.dispute(by_link, receipt, s.organizer, "Only four came")
    s.seen(full, short)
    db.session.commit()

    # A shipment through the border hub: the hub confirms its leg (the donor is told), the
    # leg on to the group is not confirmed in time (the coordinators are told), then the
    # group confirms it (the hub is told).
    routed = claimed(s, 4, approve=True)
    ops.ship(routed, s.donor, SHIPPING_NOTE, tracking=TRACKING)
    hub_id = s.hub.organization_id
    first = legs.hand_over(routed, s.donor, hub_id, 4, carrier="Plinthaway", tracking=TRACKING)
    legs.confirm(first, s.hub, 4)
    last = legs.hand_over(routed, s.hub, s.need.organization_id, 4, tracking=HUB_TRACKING)
    db.session.commit()
    run_now("legs.overdue", last.handed_over_at + 80 * HOUR)
    legs.confirm(last, s.organizer, 3, note=RECEIPT_NOTE)
    s.seen(routed)
    db.session.commit()

    # The two sides talk on a match (a coordinator joins in) and the group reports a message;
    # the group asks the donor about an offer, before any match.
    conversations.write_on_match(full, s.organizer, "Which courier brings it?")
    asked_back = conversations.write_on_match(full, s.donor, "The usual one, as agreed.")
    conversations.write_on_match(full, s.coordinator, "Please keep it to the goods.")
    conversations.write_on_match(full, s.donor, "Of course.")
    conversations.report(asked_back, s.organizer, "Not what we agreed")
    conversations.write_on_offer(s.offers[0], s.organizer, "Are the units new or used?")
    db.session.commit()

    # A pending claim expires by the job, when its time has passed.
    lapsing = claimed(s, 5)
    db.session.commit()
    run_now("matches.expire", lapsing.expires_at + MINUTE, [lapsing.id])

    # More time, the reminder to ship at three quarters of it, then a release once overdue.
    late = claimed(s, 5, approve=True)
    ops.request_extension(late, s.donor)
    db.session.commit()
    s.seen(late)
    begun, deadline = late.confirmed_at, late.expires_at
    run_now("matches.remind", begun + (deadline - begun) * SHIP_REMINDER_AT + MINUTE)
    db.session.execute(update(Match).where(Match.id == late.id).values(expires_at=now - HOUR))
    db.session.refresh(late)
    ops.release(late, s.admin, "Never shipped")
    db.session.commit()

    # The one recipient who may not see the need: a donor of an unverified organization. No
    # path in production reaches it (a claim and a run refuse an unverified donor), but the
    # verb beneath the run does not ask, and what it then reads must name only the oblast.
    outsider_org = db.session.get(Organization, s.outsider.organization_id)
    stray = ops.reserve(s.need, s.offers[1], outsider_org, 5, source=MatchSource.ENGINE)
    ops.accept(stray, s.outsider)
    ops.approve(stray, s.coordinator)
    decide(outsider_org, "reject", s.coordinator, reason="Nobody we know vouches for them")
    waiting = claimed(s, 5)
    s.seen(stray)
    db.session.commit()

    # Proposals the donor has not answered: one approved first (the donor is asked), and the
    # reminder of the two together, summed up in one message per person.
    donor_org = db.session.get(Organization, s.donor.organization_id)
    asked = ops.reserve(s.need, s.offers[0], donor_org, 3, source=MatchSource.ENGINE)
    ops.approve(asked, s.coordinator)
    unanswered = ops.reserve(s.need, s.offers[0], donor_org, 2, source=MatchSource.ENGINE)
    db.session.commit()
    s.seen(asked, unanswered)
    run_now("matches.remind", unanswered.expires_at - PENDING_REMINDER_BEFORE + HOUR)

    # Two confirmed matches not shipped at three quarters of their time: one message.
    twins = [claimed(s, 2, approve=True), claimed(s, 2, approve=True)]
    db.session.commit()
    begun, deadline = twins[1].confirmed_at, twins[1].expires_at
    run_now("matches.remind", begun + (deadline - begun) * SHIP_REMINDER_AT + MINUTE)

    # Two more needs of the group, due with nothing pledged and asked "still needed?": one
    # message each for the organizer, summing both up.
    for n in (1, 2):
        make_need(s.organizer.organization, s.organizer, s.need.place, category="generators",
                  quantity=10 * n, needed_by=s.need.needed_by.isoformat(),
                  title=f"Spare batteries {n}")  # fmt: skip
    db.session.commit()
    run_now("needs.remind", now + 28 * DAY)

    # A monthly offer: a claim against its first month, confirmed, never shipped; when the
    # month has ended the period is missed (the group and the coordinators are told).
    monthly = make_offer(s.donor.organization, s.donor, s.offers[0].place,
                         category="generators", quantity=20, **OFFER)  # fmt: skip
    series = make_recurring(monthly, {"every": "month", "quantity": 20}, s.donor, now=now)
    unshipped = ops.claim_need(s.need, s.donor, 3, offer=monthly)
    ops.approve(unshipped, s.coordinator)
    s.seen(unshipped)
    db.session.commit()
    run_now("recurring.periods", now + 32 * DAY)
    assert series.periods[0].missed_at is not None
    money(s, now)

    # The coordinators' digest; then the group ends the need: the open matches are cancelled.
    run_now("matches.digest", utcnow())
    cancel_need(s.need, s.organizer, reason="Received from another donor")
    s.seen(waiting)
    db.session.commit()


def money(s: Story, now: datetime) -> None:
    """Money for the need (aidmatch/money): the group prices it; the donor pledges monthly
    (the coordinators are asked, the group hears), a coordinator confirms (the donor hears);
    the newcomer's pledge is rejected; a month arrives (money_received), the next is late
    (money.late tells both sides); the group reports what it bought; the donor stops."""
    s.organizer.org_role = OrgRole.OWNER  # where a group's money goes: its owners say
    set_payment_details(s.organizer.organization, s.organizer, link="https://pay.example.org/j")
    money_ops.set_cost(s.need, s.organizer, 2_000_000, "UAH")
    monthly = money_ops.pledge(s.need, s.donor, 500_000, "UAH", "monthly", 2)
    stray = money_ops.pledge(s.need, s.newcomer, 100_000, "UAH")
    db.session.commit()
    money_ops.decide(monthly, s.coordinator, True)
    money_ops.decide(stray, s.coordinator, False, "Unknown to the network")
    db.session.commit()
    money_ops.confirm_received(monthly.installments[0], s.organizer, 500_000)
    db.session.commit()
    run_now("money.late", now + 40 * DAY)
    report_spending(s.need, s.organizer, 450_000, "UAH", "Diesel, 300 l")
    db.session.commit()
    money_ops.cancel(monthly, s.donor, "Our drive ended")
    db.session.commit()


def ask_resets(app, story: Story) -> None:
    """Everyone asks for a password reset on the page (each from an address of its own)."""
    for n, user in enumerate(story.people, start=1):
        response = app.test_client().post(
            "/password/forgot",
            data={"email": user.email},
            environ_base={"REMOTE_ADDR": f"192.0.2.{n}"},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
