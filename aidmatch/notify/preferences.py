"""What each user chose to receive, per kind of notification and channel: the one home of
reading and writing these choices.

A Preference row exists only where a choice differs from the default of its kind's group
(notify/kinds.py); choosing the default again deletes the row. The outbox asks ``wants``; the
preferences page and API show ``table`` and save through ``save``; an unsubscribe link calls
``choose``. The inbox shows every kind whatever the choices (it is not a channel one turns off).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from aidmatch.extensions import db
from aidmatch.notify.kinds import KINDS, Kind, chosen_as, default
from aidmatch.notify.models import Channel, Preference
from aidmatch.permissions import is_staff
from aidmatch.refusals import Invalid

CHANNELS = (Channel.EMAIL, Channel.TELEGRAM)
CHANNEL_LABELS = {Channel.EMAIL: _l("E-mail"), Channel.TELEGRAM: _l("Telegram")}


def choices(user_ids: Iterable[int], kind: str) -> dict[tuple[int, Channel], bool]:
    """What these users chose for this kind (for a summary: for the kind it sums up), where
    they chose anything."""
    ids = list(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Preference.user_id, Preference.channel, Preference.enabled).where(
            Preference.user_id.in_(ids), Preference.kind == chosen_as(kind)
        )
    )
    return {(user_id, Channel(channel)): enabled for user_id, channel, enabled in rows}


def wants(user, kind: str, channel: Channel, chosen: dict | None = None) -> bool:
    """Whether this user gets this kind on this channel (their choice, else the default)."""
    if not KINDS[kind].optional:
        return default(kind, channel)
    chosen = choices([user.id], kind) if chosen is None else chosen
    return chosen.get((user.id, channel), default(kind, channel))


def choosable(user) -> list[Kind]:
    """The kinds this user may turn on or off: the optional ones but summaries (they follow
    the kind they sum up), and those only staff receive for coordinators and admins alone."""
    staff = is_staff(user)
    return [k for k in KINDS.values() if k.optional and not k.follows and (staff or not k.staff)]


def _rows(user) -> dict[tuple[str, Channel], Preference]:
    found = db.session.scalars(select(Preference).where(Preference.user_id == user.id))
    return {(row.kind, Channel(row.channel)): row for row in found}


def table(user) -> list[dict]:
    """Each choosable kind on each channel: whether it is on for this user, and the default
    (one query)."""
    rows = _rows(user)
    lines = []
    for spec in choosable(user):
        for channel in CHANNELS:
            row = rows.get((spec.name, channel))
            fallback = default(spec.name, channel)
            lines.append(
                {
                    "kind": spec.name,
                    "label": str(spec.label),
                    "channel": str(channel),
                    "enabled": fallback if row is None else row.enabled,
                    "default": fallback,
                }
            )
    return lines


def check(user, entries: list[dict]) -> dict[tuple[str, Channel], bool]:
    """Each {kind, channel, enabled} of a request as a choice, or Invalid naming every entry
    that is wrong (preferences.<n>.kind, preferences.<n>.channel)."""
    allowed = {spec.name for spec in choosable(user)}
    known = ", ".join(str(c) for c in CHANNELS)
    problems: dict[str, str] = {}
    wanted: dict[tuple[str, Channel], bool] = {}
    for n, entry in enumerate(entries):
        at = f"preferences.{n}"
        name, channel = entry["kind"], entry["channel"]
        spec = KINDS.get(name)
        if spec is None or spec.follows:
            problems[f"{at}.kind"] = _(
                "Unknown kind of notification: %(kind)s. Known kinds: %(known)s.",
                kind=name,
                known=", ".join(k.name for k in choosable(user)),
            )
        elif not spec.optional:
            problems[f"{at}.kind"] = _(
                "%(kind)s is always sent: it cannot be turned on or off.", kind=name
            )
        elif name not in allowed:
            problems[f"{at}.kind"] = _("%(kind)s goes to coordinators and admins only.", kind=name)
        if channel not in {str(c) for c in CHANNELS}:
            problems[f"{at}.channel"] = _(
                "Unknown channel: %(channel)s. Known channels: %(known)s.",
                channel=channel,
                known=known,
            )
        if f"{at}.kind" in problems or f"{at}.channel" in problems:
            continue
        key = (name, Channel(channel))
        if key in wanted and wanted[key] != entry["enabled"]:
            problems[at] = _(
                "%(kind)s on %(channel)s is listed twice, once on and once off.",
                kind=name,
                channel=channel,
            )
        wanted[key] = entry["enabled"]
    if problems:
        raise Invalid(_("Some choices are not valid."), fields=problems)
    return wanted


def choose(user, kind: str, channel: Channel, enabled: bool) -> None:
    """Record one choice: a row where it differs from the default, none where it does not
    (flushed)."""
    save(user, {(kind, channel): enabled})


def save(user, wanted: dict[tuple[str, Channel], bool]) -> int:
    """Record these choices (others stay as they are); returns how many rows changed."""
    rows = _rows(user)
    changed = 0
    for (kind, channel), enabled in wanted.items():
        row = rows.get((kind, channel))
        if enabled == default(kind, channel):
            if row is not None:
                db.session.delete(row)
                changed += 1
        elif row is None:
            db.session.add(Preference(user_id=user.id, kind=kind, channel=channel, enabled=enabled))
            changed += 1
        elif row.enabled != enabled:
            row.enabled = enabled
            changed += 1
    db.session.flush()
    return changed


def channels(user) -> list[dict]:
    """Whether each channel works on this server and reaches this user, in words to show
    beside the choices (they may be chosen all the same)."""
    config = current_app.config
    email_note = None
    if not config.get("MAIL_SERVER"):
        email_note = _("E-mail is off on this server: nothing is sent by e-mail for now.")
    elif user.email_bounced_at is not None:
        email_note = _("Mail to your address came back: check it on your account page.")
    telegram_note = None
    linked = user.telegram_chat_id is not None
    if not config.get("TELEGRAM_BOT_TOKEN"):
        telegram_note = _("Telegram is off on this server: nothing is sent by Telegram for now.")
    elif user.telegram_lost_at is not None and not linked:
        telegram_note = _("Your Telegram chat was unlinked (the bot was blocked): link it again.")
    elif not linked:
        telegram_note = _("Your Telegram is not linked yet: link it on your account page.")
    return [
        {
            "channel": str(Channel.EMAIL),
            "label": str(CHANNEL_LABELS[Channel.EMAIL]),
            "on_server": bool(config.get("MAIL_SERVER")),
            "reaches_you": user.email_bounced_at is None,
            "note": email_note,
        },
        {
            "channel": str(Channel.TELEGRAM),
            "label": str(CHANNEL_LABELS[Channel.TELEGRAM]),
            "on_server": bool(config.get("TELEGRAM_BOT_TOKEN")),
            "reaches_you": linked,
            "note": telegram_note,
        },
    ]
