"""Every kind of notification: to whom it speaks, what it says, where its link leads, which
buttons a Telegram message carries, and on which channels it goes by default.

A message names the category, a quantity, the settlement (or only the oblast), an
organization (and, to coordinators only, its state and who vouched for it) and a reason a
person typed (a conversation's message: what its writer typed for the other side, sent to
that side only); never a point, a delivery note, a contact, a title or a date (a lock screen,
Telegram's servers and mail servers read it). ``params`` hold only these.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from aidmatch.notify.models import Channel

# What a group of kinds does by default beyond the inbox (which always shows them).
#   action: the recipient must do something       -> e-mail and Telegram
#   news:   something happened                     -> the inbox only
#   queue:  a coordinator's queue grew             -> the inbox, and the daily digest
#   digest: the coordinators' daily digest         -> e-mail and Telegram
#   account: a password reset                      -> e-mail, always
DEFAULTS: dict[str, dict[Channel, bool]] = {
    "action": {Channel.EMAIL: True, Channel.TELEGRAM: True},
    "news": {Channel.EMAIL: False, Channel.TELEGRAM: False},
    "queue": {Channel.EMAIL: False, Channel.TELEGRAM: False},
    "digest": {Channel.EMAIL: True, Channel.TELEGRAM: True},
    "account": {Channel.EMAIL: True, Channel.TELEGRAM: False},
}


@dataclass(frozen=True)
class Kind:
    name: str
    group: str  # a key of DEFAULTS
    label: object  # what the preferences page calls it
    text: object  # the message, with %(what)s (quantity, unit, category) and %(place)s ...
    link: str | None  # a key of notify/messages.LINKS (match, need, matches ...) or None
    buttons: tuple[str, ...] = ()  # Telegram buttons (telegram/ knows each verb)
    inbox: bool = True  # shown on /notifications (False: e-mail or Telegram only)
    optional: bool = True  # False: sent whatever the preferences (a password reset)
    staff: bool = False  # only coordinators and admins receive it (the preferences page)
    # A summary of several of another kind (notify/summary.py): sent as the choices made for
    # that kind say, and not chosen by itself.
    follows: str | None = None
    # A reply to it in Telegram is a reply to what it is about (telegram/updates.py): the
    # channel remembers the Telegram message it sent (notify/models.TelegramMessage).
    replies: bool = False


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "match_claimed",
            "news",
            _l("A donor pledged aid for your need"),
            _l("A donor pledged %(what)s for your need in %(place)s."),
            "match",
        ),
        Kind(
            "match_requested",
            "action",
            _l("A group asks for aid from your offer"),
            _l(
                "A group asks for %(what)s from your offer, for a need in %(place)s. "
                "Please accept (all or less) or decline."
            ),
            "match",
            buttons=("accept", "decline"),
        ),
        Kind(
            "match_to_review",
            "queue",
            _l("A match waits for review"),
            _l("A match waits for your review: %(what)s for a need in %(place)s."),
            "match",
            buttons=("approve", "reject"),
            staff=True,
        ),
        Kind(
            "match_accepted",
            "news",
            _l("A donor accepted a proposal for your need"),
            _l("A donor agreed to give %(what)s for your need in %(place)s."),
            "match",
        ),
        Kind(
            "match_approved_answer",
            "action",
            _l("A coordinator approved a proposal: please answer"),
            _l(
                "A coordinator approved the proposal of %(what)s for a need in %(place)s. "
                "Please accept or decline."
            ),
            "match",
            buttons=("accept", "decline"),
        ),
        Kind(
            "match_confirmed_ship",
            "action",
            _l("A match of yours is confirmed: ship it"),
            _l("Confirmed: %(what)s for a need in %(place)s. Please ship it and mark it shipped."),
            "match",
        ),
        Kind(
            "match_confirmed",
            "news",
            _l("Aid for your need is confirmed"),
            _l("Confirmed: a donor will ship %(what)s for your need in %(place)s."),
            "match",
        ),
        Kind(
            "match_rejected",
            "news",
            _l("A match was rejected"),
            _l("A coordinator rejected the match of %(what)s for a need in %(place)s: %(reason)s"),
            "match",
        ),
        Kind(
            "match_declined",
            "news",
            _l("A donor declined a proposal"),
            _l(
                "The donor declined the proposal of %(what)s for your need in %(place)s. %(reason)s"
            ),
            "match",
        ),
        Kind(
            "match_shipped",
            "action",
            _l("Aid for your need is on its way"),
            _l("Shipped: %(what)s for your need in %(place)s. Confirm it when it arrives."),
            "match",
            buttons=("confirm_delivery",),
        ),
        Kind(
            "match_delivered",
            "news",
            _l("Aid arrived"),
            _l("Delivered: %(what)s arrived for the need in %(place)s."),
            "match",
        ),
        Kind(
            "match_shortfall",
            "news",
            _l("Less arrived than was shipped"),
            _l("Only %(received)s of %(what)s arrived for the need in %(place)s."),
            "match",
        ),
        # A receipt signed through the slip's link, without an account: the group sees it
        # at once and may dispute it within 72 hours (receipts/).
        Kind(
            "receipt_signed",
            "action",
            _l("A receipt was signed for your need"),
            _l(
                "A receipt was signed at the drop point: %(received)s of %(what)s arrived for "
                "your need in %(place)s. Check it; you may dispute it within 72 hours."
            ),
            "match",
        ),
        Kind(
            "receipt_disputed",
            "action",
            _l("A group disputes a receipt"),
            _l("A group disputes the receipt signed for %(what)s in %(place)s: %(reason)s"),
            "match",
            staff=True,
        ),
        Kind(
            "leg_handed_over",
            "action",
            _l("Goods are on their way to you"),
            _l(
                "Handed over to you: %(what)s on the way to the need in %(place)s. Confirm "
                "what arrives on the match's page."
            ),
            "match",
        ),
        Kind(
            "leg_confirmed",
            "news",
            _l("A hand-off of a shipment was confirmed"),
            _l(
                "A hand-off was confirmed: %(received)s of %(what)s arrived on the way to the "
                "need in %(place)s."
            ),
            "match",
        ),
        Kind(
            "leg_overdue",
            "queue",
            _l("A hand-off was not confirmed in time"),
            _l(
                "A hand-off of %(what)s for the need in %(place)s has not been confirmed by "
                "its receiver in time."
            ),
            "match",
            staff=True,
        ),
        Kind(
            "period_missed",
            "action",
            _l("A regular donation did not ship in its period"),
            _l(
                "The regular donation of %(what)s for your need in %(place)s was not shipped "
                "in its period. Write to the donor on the match, or ask a coordinator."
            ),
            "match",
        ),
        Kind(
            "period_missed_staff",
            "queue",
            _l("A recurring offer missed a period"),
            _l(
                "A recurring offer from %(place)s missed a period: %(what)s matched in it was "
                "not shipped."
            ),
            "offer",
            staff=True,
        ),
        Kind(
            "money_pledge_to_review",
            "queue",
            _l("A money pledge waits for review"),
            _l(
                "A collective pledged money for a need of %(what)s in %(place)s: confirm or reject it."
            ),
            "need_money",
            staff=True,
        ),
        Kind(
            "money_pledged",
            "news",
            _l("A collective pledged money for your need"),
            _l(
                "A collective pledged money for your need of %(what)s in %(place)s; a "
                "coordinator confirms it."
            ),
            "need_money",
        ),
        Kind(
            "money_pledge_confirmed",
            "action",
            _l("Your money pledge is confirmed"),
            _l(
                "Your money pledge for the need of %(what)s in %(place)s is confirmed: the "
                "group's payment details are on its money page."
            ),
            "need_money",
        ),
        Kind(
            "money_pledge_rejected",
            "news",
            _l("Your money pledge was rejected"),
            _l("Your money pledge for the need of %(what)s in %(place)s was rejected."),
            "need_money",
        ),
        Kind(
            "money_pledge_cancelled",
            "news",
            _l("A collective stopped its money pledge"),
            _l("A collective stopped its money pledge for your need of %(what)s in %(place)s."),
            "need_money",
        ),
        Kind(
            "money_received",
            "news",
            _l("The group confirmed your money arrived"),
            _l("The group confirmed money received for the need of %(what)s in %(place)s."),
            "need_money",
        ),
        Kind(
            "money_late",
            "action",
            _l("Pledged money was not received in time"),
            _l(
                "A month's money pledged for the need of %(what)s in %(place)s was not "
                "confirmed received in time: please check with the other side."
            ),
            "need_money",
        ),
        Kind(
            "money_spent",
            "news",
            _l("The group reported what your money bought"),
            _l("The group of the need of %(what)s in %(place)s reported what the money bought."),
            "need_money",
        ),
        Kind(
            "match_withdrawn",
            "news",
            _l("A donor withdrew"),
            _l("The donor withdrew %(what)s for the need in %(place)s: %(reason)s"),
            "match",
        ),
        Kind(
            "match_cancelled",
            "news",
            _l("A match was cancelled"),
            _l("The match for %(what)s for the need in %(place)s was cancelled. %(reason)s"),
            "match",
        ),
        Kind(
            "match_expired",
            "news",
            _l("A match expired"),
            _l("The match for %(what)s for the need in %(place)s expired. %(reason)s"),
            "match",
        ),
        Kind(
            "match_extended",
            "news",
            _l("A donor asked for more time"),
            _l("The donor of %(what)s for your need in %(place)s was given more time to ship."),
            "match",
        ),
        Kind(
            "message_on_match",
            "action",
            _l("A message on a match"),
            _l("%(organization)s wrote about %(what)s for a need in %(place)s: %(body)s"),
            "match",
            replies=True,
        ),
        Kind(
            "message_on_offer",
            "action",
            _l("A message about an offer"),
            _l("%(organization)s wrote about the offer of %(what)s in %(place)s: %(body)s"),
            "offer",
            replies=True,
        ),
        Kind(
            "message_reported",
            "action",
            _l("A message was reported"),
            _l("A message in a conversation was reported to the coordinators. Please read it."),
            "reported_messages",
            staff=True,
        ),
        Kind(
            "org_waiting",
            "queue",
            _l("An organization waits for verification"),
            _l("A new organization waits for verification: %(organization)s."),
            "organization",
            staff=True,
        ),
        Kind(
            "org_verified",
            "action",
            _l("Your organization was verified"),
            _l("%(organization)s is verified: what it posts is now shown to others."),
            "organization",
        ),
        Kind(
            "org_suspended",
            "action",
            _l("Your organization was suspended"),
            _l(
                "A coordinator suspended %(organization)s: its needs and offers are hidden "
                "from others until it is verified again. %(reason)s"
            ),
            "organization",
        ),
        Kind(
            "org_rejected",
            "action",
            _l("Your organization was not verified"),
            _l(
                "A coordinator did not verify %(organization)s: its needs and offers stay "
                "hidden from others. %(reason)s"
            ),
            "organization",
        ),
        Kind(
            "org_unverified",
            "action",
            _l("Your organization is no longer verified"),
            _l(
                "A coordinator took back the verification of %(organization)s: its needs and "
                "offers are hidden from others until it is verified again. %(reason)s"
            ),
            "organization",
        ),
        Kind(
            "vouched_org_rejected",
            "news",
            _l("A group you vouched for was not verified"),
            _l(
                "A coordinator did not verify %(organization)s, which your organization vouched "
                "for: your vouch no longer counts."
            ),
            "organization",  # the voucher's own page: its vouches
        ),
        Kind(
            "vouched_org_suspended",
            "news",
            _l("A group you vouched for was suspended"),
            _l(
                "A coordinator suspended %(organization)s, which your organization vouched "
                "for: your vouch no longer counts while it is suspended."
            ),
            "organization",
        ),
        Kind(
            "vouched_org_withdrawn",
            "action",
            _l("A group that was vouched for was rejected or suspended"),
            _l(
                "%(organization)s is now %(state)s. It was vouched for by: %(vouchers)s. "
                "Check what the vouchers knew."
            ),
            "organization",
            staff=True,
        ),
        Kind(
            "run_proposals",
            "action",
            _l("New proposals for your offers"),
            _l("New proposals for your offers: %(count)s. Please answer them."),
            "matches",
        ),
        Kind(
            "run_proposals_group",
            "news",
            _l("Donors proposed for your needs"),
            _l(
                "Your needs for which the matching proposed donors: %(count)s. You will hear "
                "when a donor agrees."
            ),
            "matches",
        ),
        Kind(
            "reminder_pending",
            "action",
            _l("A match expires soon without your answer"),
            _l(
                "The match for %(what)s for a need in %(place)s expires in 12 hours unless you answer."
            ),
            "match",
            buttons=("accept", "decline", "approve", "reject"),
        ),
        Kind(
            "reminder_ship",
            "action",
            _l("A confirmed match is not shipped yet"),
            _l(
                "%(what)s for the need in %(place)s is not marked shipped, and most of its time has passed."
            ),
            "match",
        ),
        Kind(
            "reminder_unpledged",
            "action",
            _l("A need is due soon with nothing pledged"),
            _l(
                "Nothing is pledged yet for the need of %(what)s in %(place)s, and it is due in a few days."
            ),
            "need",
        ),
        Kind(
            "still_needed",
            "action",
            _l("Is it still needed?"),
            _l("Is %(what)s in %(place)s still needed?"),
            "need",
            buttons=("keep_open", "close_need"),
        ),
        Kind(
            "reminders_pending",
            "action",
            _l("Matches expire soon without your answer"),
            _l("Matches that expire in 12 hours unless you answer: %(count)s. Please answer them."),
            "matches",
            inbox=False,  # each is in the inbox
            follows="reminder_pending",
        ),
        Kind(
            "reminders_ship",
            "action",
            _l("Confirmed matches are not shipped yet"),
            _l(
                "Confirmed matches not marked shipped, most of their time passed: %(count)s. "
                "Please ship them and mark them shipped."
            ),
            "matches",
            inbox=False,
            follows="reminder_ship",
        ),
        Kind(
            "reminders_unpledged",
            "action",
            _l("Needs due soon with nothing pledged"),
            _l("Needs due in a few days with nothing pledged yet: %(count)s."),
            "needs",
            inbox=False,
            follows="reminder_unpledged",
        ),
        Kind(
            "reminders_still_needed",
            "action",
            _l("Are your needs still needed?"),
            _l(
                "Needs of yours posted a week or more ago: %(count)s. Please keep each open "
                "or close it."
            ),
            "my_needs",
            inbox=False,
            follows="still_needed",
        ),
        Kind(
            "queue_digest",
            "digest",
            _l("Daily digest of the review queue"),
            _l(
                "Waiting for review: matches %(count)s (expiring within 24 hours: "
                "%(expiring)s), organizations %(organizations)s."
            ),
            "review",
            inbox=False,
            staff=True,
        ),
        Kind(
            "password_reset",
            "account",
            _l("Password reset"),
            _l(
                "Someone asked to reset the password of your aidmatch account. If it was you, open the link within %(minutes)s minutes; if not, ignore this message."
            ),
            "password_reset",
            inbox=False,
            optional=False,
        ),
    )
}


def chosen_as(name: str) -> str:
    """The kind whose choices decide where this kind goes (itself, or what a summary sums up)."""
    return KINDS[name].follows or name


def default(name: str, channel: Channel) -> bool:
    """Whether this kind goes on this channel for someone who chose nothing."""
    return DEFAULTS[KINDS[chosen_as(name)].group][channel]
