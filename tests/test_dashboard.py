"""The home page's dashboards (issue 16, item 1): a group's, a donor collective's, a
coordinator's and a brand-new organizer's; every link on them answers."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchSource
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def section(page: str, section_id: str) -> str:
    """The HTML of one <section id=...> of the page ("" when it is not there)."""
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', page, re.S)
    return match.group(1) if match else ""


def links_answer(client, html: str) -> list[str]:
    """Every local link of this HTML fragment, each checked to answer 200."""
    hrefs = sorted(set(re.findall(r'href="(/[^"#]*)', html)))
    for href in hrefs:
        assert client.get(href.replace("&amp;", "&")).status_code == 200, href
    return hrefs


def world():
    """A group with a shipped match to confirm and a pledged one; a collective with a
    proposal to answer and a confirmed match to ship; a coordinator."""
    group = make_org("Kupiansk Aid", OrgKind.FRONTLINE_GROUP)
    collective = make_org("Berlin Helpers", OrgKind.DONOR_COLLECTIVE)
    organizer = make_user(Role.ORGANIZER, org=group, display_name="Oksana")
    donor = make_user(Role.DONOR, org=collective, display_name="Jonas")
    coordinator = make_user(Role.COORDINATOR)
    shipped_need = make_need(group, organizer, title="Tourniquets for the medics", quantity=40)
    proposed_need = make_need(group, organizer, title="Water filters", quantity=10)
    offer = make_offer(collective, donor, title="CAT tourniquets stock", quantity=100)
    shipped = ops.claim_need(shipped_need, donor, 5, offer=offer)
    ops.approve(shipped, coordinator)
    ops.ship(shipped, donor, "Courier van")
    to_ship = ops.claim_need(proposed_need, donor, 3, offer=offer)
    ops.approve(to_ship, coordinator)
    proposal = ops.reserve(shipped_need, offer, collective, 7, source=MatchSource.ENGINE, score=0.5)
    db.session.commit()
    return locals()


def test_group_dashboard_shows_what_to_do_its_needs_matches_and_history(client, login_as):
    w = world()
    login_as(w["organizer"])
    page = text(client.get("/"))
    to_do = section(page, "to-do")
    assert "Confirm what arrived" in to_do
    assert f'/matches/{w["shipped"].id}"' in to_do
    assert f'/matches/{w["to_ship"].id}"' not in to_do  # the donor ships it, not the group
    postings = section(page, "postings")
    assert "Your open needs" in postings
    assert "Tourniquets for the medics" in postings and "Water filters" in postings
    # Progress: 5 pledged (shipped), 7 proposed, of 40.
    assert re.search(r"<strong>40</strong>.*?5 pledged.*?7 proposed", postings, re.S)
    assert "All 2 open needs of yours" in postings
    by_state = section(page, "by-state")
    assert "On the way to you: confirm what arrives" in by_state
    assert "Pledged to your needs" in by_state
    history = section(page, "history")
    assert "Water filters" in history and "posted" in history
    assert "match: shipped" in history
    assert "Oksana" in history  # a member's own name
    assert "Jonas" not in history and "the other side" in history  # the donor's name is not
    assert "a coordinator" in history
    assert "Queues" not in page  # coordinators only
    links_answer(client, to_do + postings + by_state + history)


def test_donor_dashboard_shows_answers_shipments_and_offers(client, login_as):
    w = world()
    login_as(w["donor"])
    page = text(client.get("/"))
    to_do = section(page, "to-do")
    assert "Answer a proposal" in to_do and f'/matches/{w["proposal"].id}"' in to_do
    assert "Ship" in to_do and f'/matches/{w["to_ship"].id}"' in to_do
    assert f'/matches/{w["shipped"].id}"' not in to_do
    postings = section(page, "postings")
    assert "Your open offers" in postings and "CAT tourniquets stock" in postings
    assert re.search(r"<strong>100</strong>.*?8 allocated.*?7 proposed", postings, re.S)
    assert "Post an offer" in postings
    by_state = section(page, "by-state")
    assert "Shipped, waiting for the group to confirm" in by_state
    assert "Oksana" not in section(page, "history")
    links_answer(client, to_do + postings + by_state)


def test_coordinator_dashboard_counts_each_queue_with_a_link(client, login_as):
    w = world()
    make_org("Waiting group", verified=False)
    pending = ops.claim_need(w["proposed_need"], w["donor"], 2)  # waits for review
    late = ops.claim_need(w["shipped_need"], w["donor"], 4)
    ops.approve(late, w["coordinator"])
    db.session.execute(
        update(Match).where(Match.id == late.id).values(expires_at=utcnow() - timedelta(hours=1))
    )
    short = ops.claim_need(w["shipped_need"], w["donor"], 6)
    ops.approve(short, w["coordinator"])
    ops.ship(short, w["donor"], "Van")
    ops.confirm_delivery(short, w["organizer"], 4, "Two missing")
    db.session.commit()
    assert pending.id
    login_as(make_user(Role.COORDINATOR))
    page = text(client.get("/"))
    queues = section(page, "queues")

    def line(key: str) -> tuple[str, int]:
        row = re.search(rf'<tr id="queue-{key}">(.*?)</tr>', queues, re.S).group(1)
        href = re.search(r'href="([^"]+)"', row).group(1).replace("&amp;", "&")
        return href, int(re.sub(r"<[^>]+>", "", row.split("<td>")[1]).strip())

    assert line("review") == ("/review", 2)  # the claim and the engine's proposal
    assert line("general_offer") == ("/review?flag=general_offer", 0)
    assert line("orgs") == ("/orgs/review", 1)
    assert line("overdue") == ("/review#stale", 1)
    assert line("shortfalls") == ("/review#discrepancies", 1)
    assert "To do now" not in page and 'id="postings"' not in page  # no organization
    links_answer(client, queues)


def test_new_organizer_is_asked_to_post_a_first_need(client, login_as):
    login_as(make_user(Role.ORGANIZER, org=make_org("Brand new group")))
    page = text(client.get("/"))
    postings = section(page, "postings")
    assert "Post your first need" in postings
    assert 'href="/needs/new"' in postings
    assert "No matches in progress." in page and "Nothing has happened yet." in page
    links_answer(client, postings)


def test_new_donor_is_asked_to_post_a_first_offer(client, login_as):
    login_as(make_user(Role.DONOR))
    postings = section(text(client.get("/")), "postings")
    assert "Post your first offer" in postings and 'href="/offers/new"' in postings


def test_unverified_group_dashboard_says_donors_do_not_see_its_needs_yet(client, login_as):
    group = make_org("New group", verified=False)
    organizer = make_user(Role.ORGANIZER, org=group)
    make_need(group, organizer, title="Generator for the shelter")
    db.session.commit()
    login_as(organizer)
    postings = section(text(client.get("/")), "postings")
    assert "Generator for the shelter" in postings
    assert "Visible to donors once a coordinator verifies your group." in postings
