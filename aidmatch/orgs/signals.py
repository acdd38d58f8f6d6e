"""What happens to organizations, announced to the packages above (notify tells people):
blinker signals, sent in the transaction of the change, so a receiver's writes commit or roll
back with it.

- ``org_waiting``: a new organization waits for verification (sender: the organization).
- ``org_verified``: a coordinator verified an organization (sender: the organization;
  ``actor``: who verified it).
- ``org_withdrawn``: a coordinator suspended, rejected or un-verified an organization (what
  it posts is hidden from others now).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

org_waiting = _signals.signal("org-waiting")
org_verified = _signals.signal("org-verified")
# A coordinator suspended, rejected or un-verified an organization (sender: the organization;
# ``actor``; ``kind``: the notify kind its members receive, from orgs/lifecycle.TABLE;
# ``reason``).
org_withdrawn = _signals.signal("org-withdrawn")
