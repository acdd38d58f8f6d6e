"""What a viewer may see of money (aidmatch/money: pledges to a priced need, a group's payment
details, what the money bought): the money part of the one privacy policy, mixed into
:class:`aidmatch.privacy.policy.Viewer` (which gives ``staff``, ``org_id`` and
``org_verified``); kept here so the policy reads by topic."""

from __future__ import annotations

from collections.abc import Iterable

# A money pledge in these states shows its collective the group's payment details.
PAYMENT_REVEALED = frozenset({"confirmed"})
# ... while its need does not read as one of these: an ended need takes no more money.
NEED_ENDED = frozenset({"cancelled", "expired"})


class MoneyPolicy:
    """The money questions of a Viewer."""

    staff: bool
    org_id: int | None
    org_verified: bool

    def sees_pledge(self, pledge) -> bool:
        """A money pledge (its collective, amounts, installments): staff, the pledging
        collective and the group whose need it is; other donors see the need's totals only."""
        return self.staff or (
            self.org_id is not None
            and self.org_id in (pledge.organization_id, pledge.need.organization_id)
        )

    def sees_payment_details(self, pledge) -> bool:
        """The group's payment details (IBAN, card, payment link) on a pledge, like a contact
        on a match: staff, the group itself, and the pledging collective once a coordinator
        confirmed its pledge (PAYMENT_REVEALED), never before nor after it ended, nor once
        the need ended (cancelled, expired) or its group was suspended or rejected
        (``takes_money``)."""
        if self.staff:
            return True
        if self.org_id is None:
            return False
        if self.org_id == pledge.need.organization_id:
            return True
        return (
            self.org_id == pledge.organization_id
            and self.org_verified  # a collective suspended since sees them no more
            and str(pledge.status) in PAYMENT_REVEALED
            and self.takes_money(pledge.need)
        )

    @staticmethod
    def on_public_page(need) -> bool:
        """Whether a page anyone may read without an account (a fundraiser, /f/<slug>) may
        show this need (its category, oblast and money): not sensitive, and of a verified
        group: not one waiting for verification (donors see a vouched one's needs; the public
        does not), nor one suspended or rejected since."""
        return not need.sensitive and need.organization.verified_at is not None

    @staticmethod
    def takes_money(need) -> bool:
        """Whether a need takes money: it has not ended (NEED_ENDED, as it reads today) and
        its group is verified: not waiting for verification (a vouched group's needs are shown
        to donors, not given to, as they are not claimed: matches/claims.py), nor suspended or
        rejected since. Pledges are made (money/operations.pledge) and confirmed (decide) only
        on such a need, and its group's payment details shown only for it."""
        return (
            str(need.effective_status) not in NEED_ENDED
            and need.organization.verified_at is not None
        )

    def sees_spending_photo(self, group_id: int, pledger_ids: Iterable[int]) -> bool:
        """A receipt photo of what a group bought with pledged money (re-encoded, without
        metadata, as every photo): staff, the group and the collectives whose confirmed
        pledges on that need paid for it (pledger_ids); never the public, nor a fundraiser's
        page, which shows what was bought in words after the transparency delay."""
        return self.staff or (
            self.org_id is not None and (self.org_id == group_id or self.org_id in set(pledger_ids))
        )
