"""An explanation's facts in words, in the reader's language."""

from __future__ import annotations

import math
from typing import Any

from flask_babel import format_decimal, ngettext
from flask_babel import lazy_gettext as _l

from aidmatch.web.labels import category_fit_label

URGENCY_WORDS = {
    "critical": _l("critical"),
    "high": _l("high urgency"),
    "normal": _l("normal urgency"),
    "low": _l("low urgency"),
}


def explanation_text(facts: dict[str, Any] | None) -> str:
    """An explanation's facts in words: "34 km, critical, waiting 9 days, 5 days left"; a
    general offer for a specific need ends with "general offer: check it contains what is
    needed"."""
    facts = facts or {}
    words = []
    distance = facts.get("distance_km")
    if isinstance(distance, int | float) and math.isfinite(distance):
        # Numbers as the reader's language writes them: 3,5 km; 1 250 km.
        if facts.get("distance_rounded"):
            words.append(str(_l("about %(km)s km", km=format_decimal(round(distance)))))
        elif distance < 10:
            words.append(str(_l("%(km)s km", km=format_decimal(distance, "0.0"))))
        else:
            words.append(str(_l("%(km)s km", km=format_decimal(round(distance)))))
    if facts.get("urgency") in URGENCY_WORDS:
        words.append(str(URGENCY_WORDS[facts["urgency"]]))
    waiting = facts.get("days_waiting")
    if isinstance(waiting, int) and waiting >= 1:
        words.append(ngettext("waiting %(num)d day", "waiting %(num)d days", waiting))
    left = facts.get("days_left")
    if isinstance(left, int):
        if left < 0:
            words.append(ngettext("%(num)d day overdue", "%(num)d days overdue", -left))
        elif left == 0:
            words.append(str(_l("needed today")))
        else:
            words.append(ngettext("%(num)d day left", "%(num)d days left", left))
    if facts.get("verified") is False:
        words.append(str(_l("group not verified")))
    if facts.get("category_fit") == "general":
        words.append(category_fit_label("general"))
    return ", ".join(words)
