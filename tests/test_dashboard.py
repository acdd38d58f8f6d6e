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
from aidmatch.needs.kind import NEED
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.postings.operations import end
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place


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
    assert line("orgs") == ("/orgs?state=unverified", 1)
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


# The organization's page ---------------------------------------------------------------------


def test_org_page_lists_open_needs_and_town_as_the_viewer_may_see_them(client, switch):
    town = make_place("Zoriane", lat=49.7, lon=37.6, oblast="Kharkiv Oblast")
    group = make_org("Zoriane Aid", OrgKind.FRONTLINE_GROUP, place_id=town.id)
    organizer = make_user(Role.ORGANIZER, org=group)
    make_need(group, organizer, place=town, title="Insulin fridge", lat=49.71234, lon=37.61234,
              delivery_note="Back door of the clinic")  # fmt: skip
    make_need(group, organizer, place=town, title="Sensitive drones", sensitive=True)
    ended = make_need(group, organizer, place=town, title="Old cancelled need")
    end(NEED, ended, organizer, "no longer needed")
    unverified_donor = make_user(Role.DONOR, org=make_org("New donors", OrgKind.DONOR_COLLECTIVE,
                                                          verified=False))  # fmt: skip
    db.session.commit()
    url = f"/orgs/{group.id}"

    switch(make_user(Role.DONOR))  # a verified collective
    page = text(client.get(url))
    listed = section(page, "org-postings")
    assert "Based in Zoriane, Kharkiv Oblast" in page
    assert "Insulin fridge" in listed and "Sensitive drones" in listed
    assert "Old cancelled need" not in listed
    for secret in ("49.71234", "37.61234", "Back door of the clinic", "Signal +380"):
        assert secret not in page
    assert "Visible to donors once" not in page
    links_answer(client, listed)

    switch(unverified_donor)  # sensitive needs only to verified organizations
    listed = section(text(client.get(url)), "org-postings")
    assert "Insulin fridge" in listed and "Sensitive drones" not in listed


def test_unverified_group_page_lists_its_needs_to_itself_with_the_notice(client, switch):
    group = make_org("Waiting group", verified=False)
    organizer = make_user(Role.ORGANIZER, org=group)
    make_need(group, organizer, title="Stretchers")
    db.session.commit()
    switch(organizer)
    listed = section(text(client.get(f"/orgs/{group.id}")), "org-postings")
    assert "Stretchers" in listed
    assert "Visible to donors once a coordinator verifies your group." in listed
    switch(make_user(Role.DONOR))
    assert client.get(f"/orgs/{group.id}").status_code == 403  # its page waits too


def test_collective_page_lists_its_open_offers(client, login_as):
    collective = make_org("Lviv Stock", OrgKind.DONOR_COLLECTIVE)
    donor = make_user(Role.DONOR, org=collective)
    make_offer(collective, donor, title="Sleeping bags", category="sleeping-bags", quantity=30)
    db.session.commit()
    login_as(make_user(Role.ORGANIZER))
    listed = section(text(client.get(f"/orgs/{collective.id}")), "org-postings")
    assert "Open offers" in listed and "Sleeping bags" in listed
    assert "30 of 30" in listed


def test_a_long_to_do_list_shows_five_and_links_to_the_rest(client, login_as):
    group = make_org("Big group")
    organizer = make_user(Role.ORGANIZER, org=group)
    collective = make_org("Busy donors", OrgKind.DONOR_COLLECTIVE)
    donor = make_user(Role.DONOR, org=collective)
    offer = make_offer(collective, donor, quantity=1000)
    for i in range(7):
        need = make_need(group, organizer, title=f"Need number {i}")
        ops.reserve(need, offer, collective, 2, source=MatchSource.ENGINE, score=0.5)
    db.session.commit()
    login_as(donor)
    page = text(client.get("/"))
    to_do = section(page, "to-do")
    assert "Answer a proposal (7)" in to_do
    assert to_do.count('href="/matches/') == 5
    assert 'href="/matches#answer"' in to_do
    assert "7 matches in progress" in section(page, "by-state")
