"""Instant candidates on a need's or an offer's page (sections of the posting kit's detail
page, aidmatch.postings.pages; the routes are the needs' and offers')."""

from __future__ import annotations

from flask import current_app

from aidmatch.candidates.proposals import proposals_awaiting_donor
from aidmatch.candidates.ranking import candidates_for_need, candidates_for_offer
from aidmatch.postings.pages import page_section


@page_section("need")
def need_page_candidates(need, viewer, may_edit: bool) -> dict:
    """What templates/_candidates.html needs on a need's page: the offers that could cover it."""
    return {"candidates": candidates_for_need(need, viewer), "candidates_kind": "offers"}


@page_section("offer")
def offer_page_candidates(offer, viewer, own: bool) -> dict:
    """What templates/_candidates.html needs on an offer's page: the needs it could cover and,
    for the donor's own offer, the engine's proposals waiting for its answer."""
    return {
        "candidates": candidates_for_offer(offer, viewer),
        "candidates_kind": "needs",
        "proposals_waiting": proposals_awaiting_donor(offer, viewer) if own else [],
        "answer_buttons": "matches.act" in current_app.view_functions,
    }
