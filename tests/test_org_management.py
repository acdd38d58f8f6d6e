"""Looking after organizations (issue 16, item 2): the profile, owners and members, the
coordinators' directory and decisions (orgs/lifecycle.py), and what a suspension does to a
group's needs and offers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import select

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.models import User
from aidmatch.auth.operations import register_with_invite, register_with_new_org
from aidmatch.extensions import db
from aidmatch.notify.models import Notification
from aidmatch.orgs.lifecycle import TABLE, OrgState, available
from aidmatch.orgs.members import leave_organization, remove_member, set_member_role
from aidmatch.orgs.models import Organization, OrgKind, OrgRole
from aidmatch.orgs.operations import decide, update_organization
from aidmatch.permissions import Role
from aidmatch.refusals import Conflict, Invalid, NotAllowed
from aidmatch.runs.job import run_matching
from tests.conftest import make_test_app
from tests.factories import make_invite, make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place

OWNER = OrgRole.OWNER


def text(response) -> str:
    return response.get_data(as_text=True)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def group_with_members(**fields):
    """A verified frontline group with an owner and two members."""
    org = make_org(**fields)
    owner = make_user(org=org, org_role=OWNER, display_name="Olena Owner")
    first = make_user(org=org, display_name="Mykola Member")
    second = make_user(org=org, display_name="Petro Member")
    return org, owner, first, second


# --- the lifecycle table ---------------------------------------------------------------------


def test_every_state_has_a_way_out_and_only_verified_is_public():
    for state in OrgState:
        assert available(state), state
    assert {row.target for row in TABLE.values()} == set(OrgState)
    assert [row.name for row in available(OrgState.VERIFIED)] == ["suspend", "unverify"]


# --- the profile -----------------------------------------------------------------------------


def test_owner_edits_the_profile_and_only_changes_are_audited(app):
    org, owner, _member, _other = group_with_members(name="Sumy Aid")
    place = make_place("Okhtyrka test", oblast="Sumy Oblast")
    update_organization(
        org,
        owner,
        {
            "name": " Sumy  Aid Network ",
            "kind": "frontline_group",
            "place": place,
            "description": "Evacuation and first aid",
            "contact": org.contact,
            "public_name": True,
        },
    )
    assert org.name == "Sumy Aid Network" and org.name_key == "sumy aid network"
    assert org.place_id == place.id and org.public_name and org.description
    (event,) = events("org.update")
    assert event.actor_id == owner.id
    assert set(event.after) == {"name", "place_id", "description", "public_name"}
    assert event.before["name"] == "Sumy Aid" and event.after["public_name"] is True


def test_a_member_who_is_not_owner_may_not_edit(app):
    org, _owner, member, _other = group_with_members()
    with pytest.raises(NotAllowed):
        update_organization(org, member, {"name": "Taken over"})
    assert events("org.update") == []


def test_staff_edit_any_profile(app):
    org = make_org(name="Old name")
    update_organization(org, make_user(role=Role.COORDINATOR), {"name": "New name"})
    assert org.name == "New name"


def test_profile_refusals_name_their_fields(app):
    make_org(name="Taken Name")
    org, owner, _m, _o = group_with_members(name="Mine")
    with pytest.raises(Invalid) as exc:
        update_organization(
            org, owner, {"name": "taken  name", "kind": "donor_collective", "contact": "x" * 3000}
        )
    assert set(exc.value.fields) == {"name", "kind", "contact"}
    assert "roles depend on it" in exc.value.fields["kind"]
    assert org.name == "Mine"


def test_a_donor_collective_may_become_a_supply_collective(app):
    org = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    owner = make_user(role=Role.DONOR, org=org, org_role=OWNER)
    update_organization(org, owner, {"kind": "supply_collective"})
    assert org.kind == OrgKind.SUPPLY_COLLECTIVE


def test_edit_page_saves_and_keeps_what_was_typed_on_an_error(client, login_as):
    org, owner, _m, _o = group_with_members(name="Izium Rescue")
    make_place("Balakliia test", oblast="Kharkiv Oblast")
    login_as(owner)
    page = client.get(f"/orgs/{org.id}/edit")
    assert page.status_code == 200 and 'value="Izium Rescue"' in text(page)

    form = {
        "name": "",
        "kind": "frontline_group",
        "place_name": "Balakliia test",
        "description": "We drive to the villages",
        "contact": "Signal +380 66 000 1111",
        "public_name": "y",
    }
    response = client.post(f"/orgs/{org.id}/edit", data=form)
    assert response.status_code == 422
    assert "Enter the organization&#39;s name." in text(response)
    assert "We drive to the villages" in text(response)
    assert "Signal +380 66 000 1111" in text(response)
    assert db.session.get(Organization, org.id).description == ""

    response = client.post(f"/orgs/{org.id}/edit", data={**form, "name": "Izium Rescue Team"})
    assert response.status_code == 302
    org = db.session.get(Organization, org.id)
    assert org.name == "Izium Rescue Team" and org.place.name == "Balakliia test"
    assert org.public_name and org.contact == "Signal +380 66 000 1111"
    page = text(client.get(f"/orgs/{org.id}"))
    assert "We drive to the villages" in page and "Balakliia test" in page


def test_edit_page_says_when_no_place_has_the_name(client, login_as):
    org, owner, _m, _o = group_with_members(name="Named")
    login_as(owner)
    response = client.post(
        f"/orgs/{org.id}/edit",
        data={"name": "Named", "kind": "frontline_group", "place_name": "Qqqzzzxx"},
    )
    assert response.status_code == 422
    assert "No place called" in text(response) and 'value="Qqqzzzxx"' in text(response)


def test_members_and_outsiders_may_not_open_the_edit_page(client, login_as, switch):
    org, _owner, member, _o = group_with_members()
    login_as(member)
    assert client.get(f"/orgs/{org.id}/edit").status_code == 403
    assert client.post(f"/orgs/{org.id}/edit", data={"name": "x"}).status_code == 403
    switch(make_user(role=Role.DONOR))
    assert client.get(f"/orgs/{org.id}/edit").status_code == 403


# --- members ---------------------------------------------------------------------------------


def test_registering_a_new_organization_makes_its_owner_and_an_invite_a_member(app):
    first = register_with_new_org(
        "founder@example.org", "a long passphrase 1", "Founder", "New Group", "frontline_group"
    )
    invite = make_invite(first.organization, created_by=first)
    joined = register_with_invite(
        invite.code, "joiner@example.org", "a long passphrase 2", "Joiner"
    )
    assert first.org_role == OrgRole.OWNER and joined.org_role == OrgRole.MEMBER


def test_owner_removes_a_member_who_keeps_the_account(app):
    org, owner, member, _other = group_with_members()
    remove_member(org, member, owner)
    db.session.refresh(member)
    assert member.organization_id is None and member.active
    (event,) = events("org.member_remove")
    assert event.actor_id == owner.id and event.object_id == member.id
    assert event.before["organization_id"] == org.id and event.after["organization_id"] is None


def test_a_member_who_is_not_owner_cannot_remove(app):
    org, _owner, member, other = group_with_members()
    with pytest.raises(NotAllowed):
        remove_member(org, other, member)
    assert other.organization_id == org.id


def test_the_last_owner_stays_while_others_remain(app):
    org, owner, member, _other = group_with_members()
    coordinator = make_user(role=Role.COORDINATOR)
    with pytest.raises(Conflict) as exc:
        remove_member(org, owner, coordinator)
    assert "last owner" in exc.value.message
    with pytest.raises(Conflict) as exc:
        leave_organization(owner)
    assert "make another member an owner" in exc.value.message
    with pytest.raises(Conflict):
        set_member_role(org, owner, "member", owner)
    assert owner.organization_id == org.id and owner.org_role == OWNER

    set_member_role(org, member, "owner", owner)
    leave_organization(owner)
    assert owner.organization_id is None
    assert [e.object_id for e in events("org.member_leave")] == [owner.id]
    assert events("org.member_role")[0].after == {"org_role": "owner"}


def test_a_sole_owner_may_leave_an_organization_with_nobody_else(app):
    org = make_org()
    owner = make_user(org=org, org_role=OWNER)
    leave_organization(owner)
    assert owner.organization_id is None and org.members == []


def test_members_pages_remove_leave_and_refuse(client, login_as, switch):
    org, owner, member, other = group_with_members(name="Kupiansk Aid")
    login_as(member)
    page = text(client.get(f"/orgs/{org.id}"))
    assert "Olena Owner" in page and f"/members/{other.id}/remove" not in page
    assert client.post(f"/orgs/{org.id}/members/{other.id}/remove").status_code == 403

    switch(owner)
    page = text(client.get(f"/orgs/{org.id}"))
    assert f"/orgs/{org.id}/members/{member.id}/remove" in page
    assert f"/orgs/{org.id}/members/{owner.id}/remove" not in page  # not oneself
    response = client.post(f"/orgs/{org.id}/members/{member.id}/remove", follow_redirects=True)
    assert "Mykola Member is no longer a member." in text(response)
    assert db.session.get(User, member.id).organization_id is None
    response = client.post(f"/orgs/{org.id}/leave", follow_redirects=True)
    assert "You are the last owner" in text(response)
    assert client.post(f"/orgs/{org.id}/members/999999/remove").status_code == 404

    switch(other)
    response = client.post(f"/orgs/{org.id}/leave")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert db.session.get(User, other.id).organization_id is None

    switch(member)  # removed: the account works, the organization's page is closed to it
    assert client.get("/").status_code == 200
    assert client.get(f"/orgs/{org.id}").status_code == 200  # verified: any signed-in user
    assert "Mykola Member" not in text(client.get(f"/orgs/{org.id}"))


# --- decisions -------------------------------------------------------------------------------


def test_decisions_need_a_reason_and_keep_the_note(app):
    org = make_org(verified=False)
    coordinator = make_user(role=Role.COORDINATOR)
    with pytest.raises(Invalid) as exc:
        decide(org, "verify", coordinator, reason="  ", note="phone call with Anna")
    assert exc.value.field == "reason" or "reason" in exc.value.fields
    assert org.state == OrgState.UNVERIFIED

    decide(
        org, "verify", coordinator, reason="Known group", note="Phone call with Anna, known from Y"
    )
    assert org.state == OrgState.VERIFIED and org.verified_at is not None
    decide(org, "suspend", coordinator, reason="Reported twice")
    assert org.state == OrgState.SUSPENDED and org.verified_at is None and not org.verified
    assert org.decided_by_id == coordinator.id and org.decision_reason == "Reported twice"
    decide(org, "verify", coordinator, reason="Cleared")
    decide(org, "unverify", coordinator, reason="Contact changed hands")
    assert org.state == OrgState.UNVERIFIED and org.verified_at is None
    decide(org, "reject", coordinator, reason="Nobody vouches")
    assert org.state == OrgState.REJECTED
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["org.verify", "org.suspend", "org.verify", "org.unverify", "org.reject"]
    first = events("org.verify")[0]
    assert first.after["note"] == "Phone call with Anna, known from Y"
    assert first.after["reason"] == "Known group" and first.after["state"] == "verified"


def test_a_decision_the_state_does_not_allow_is_refused(app):
    org = make_org(verified=True)
    coordinator = make_user(role=Role.COORDINATOR)
    with pytest.raises(Conflict):
        decide(org, "reject", coordinator, reason="late")
    with pytest.raises(Conflict):
        decide(org, "verify", coordinator, reason="twice")
    with pytest.raises(NotAllowed):
        decide(org, "suspend", make_user(role=Role.ORGANIZER), reason="I dislike them")
    assert org.state == OrgState.VERIFIED and events("org.suspend") == []


def test_the_verified_state_and_verified_at_cannot_disagree(app):
    org = make_org(verified=True)
    org.verified_at = None
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_coordinator_must_give_a_reason_on_the_page(client, login_as):
    org = make_org(name="Doubtful Group", verified=True)
    login_as(make_user(role=Role.COORDINATOR))
    page = text(client.get(f"/orgs/{org.id}"))
    assert f"/orgs/{org.id}/suspend" in page and f"/orgs/{org.id}/unverify" in page
    assert f"/orgs/{org.id}/reject" not in page
    response = client.post(
        f"/orgs/{org.id}/suspend", data={"suspend-reason": "", "suspend-note": "asked Y"}
    )
    assert response.status_code == 422
    assert "Say why" in text(response) and "asked Y" in text(response)
    assert db.session.get(Organization, org.id).state == OrgState.VERIFIED
    response = client.post(
        f"/orgs/{org.id}/suspend",
        data={"suspend-reason": "Goods resold", "suspend-note": "call with X"},
        follow_redirects=True,
    )
    assert "Doubtful Group is now suspended." in text(response)
    assert "How it was checked: call with X" in text(response)


def test_suspension_tells_the_members_with_the_reason(app):
    org, owner, member, other = group_with_members(name="Told Group")
    coordinator = make_user(role=Role.COORDINATOR)
    decide(org, "suspend", coordinator, reason="Reported by two donors")
    told = db.session.scalars(select(Notification).where(Notification.kind == "org_suspended"))
    notes = {n.user_id: n.params for n in told}
    assert set(notes) == {owner.id, member.id, other.id}
    assert notes[owner.id] == {"organization": "Told Group", "reason": "Reported by two donors"}


def test_members_of_a_suspended_group_see_it_and_the_reason(client, login_as):
    org, owner, _m, _o = group_with_members(name="Paused Group")
    decide(org, "suspend", make_user(role=Role.COORDINATOR), reason="Reported by donors", note="N")
    login_as(owner)
    page = text(client.get(f"/orgs/{org.id}"))
    assert "Reason: Reported by donors" in page and "How it was checked" not in page
    assert "Paused Group is suspended by a coordinator" in text(client.get("/"))


# --- the directory ---------------------------------------------------------------------------


def test_directory_searches_filters_and_pages(client, login_as):
    kharkiv = make_place("Chuhuiv test", oblast="Kharkiv Oblast")
    sumy = make_place("Trostianets test", oblast="Sumy Oblast")
    make_org(name="Chuhuiv Medics", place=kharkiv)
    make_org(name="Sumy Medics", place=sumy, verified=False)
    make_org(name="Berlin Donors", kind=OrgKind.DONOR_COLLECTIVE)
    for n in range(55):
        make_org(name=f"Zz filler {n:02d}")
    login_as(make_user(role=Role.COORDINATOR))

    def names(query: str) -> list[str]:
        page = text(client.get(f"/orgs{query}"))
        return [n for n in ("Chuhuiv Medics", "Sumy Medics", "Berlin Donors") if n in page]

    assert names("?q=medics") == ["Chuhuiv Medics", "Sumy Medics"]
    assert names("?q=MEDICS&state=unverified") == ["Sumy Medics"]
    assert names("?kind=donor_collective") == ["Berlin Donors"]
    assert names("?oblast=Kharkiv+Oblast") == ["Chuhuiv Medics"]
    assert names("?q=%25") == []  # a LIKE wildcard is a character, not "anything"
    first = text(client.get("/orgs"))
    assert "Page 1 of 2" in first and "Zz filler 46" in first and "Zz filler 47" not in first
    assert "Zz filler 54" in text(client.get("/orgs?page=2"))
    assert client.get("/orgs?state=nonsense&kind=x&oblast=y&page=zz").status_code == 200


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.DONOR])
def test_only_staff_open_the_directory(client, login_as, role):
    login_as(make_user(role=role))
    assert client.get("/orgs").status_code == 403


# --- a suspended group's needs and offers leave every list and run ---------------------------


@pytest.fixture
def suspended_world(app):
    group = make_org(name="Suspended Group")
    organizer = make_user(org=group, org_role=OWNER)
    need = make_need(group, organizer, title="Generators for the field hospital")
    donors = make_org(name="Donor Group", kind=OrgKind.DONOR_COLLECTIVE)
    donor = make_user(role=Role.DONOR, org=donors)
    offer = make_offer(donors, donor)
    collective = make_org(name="Paused Collective", kind=OrgKind.DONOR_COLLECTIVE)
    paused_donor = make_user(role=Role.DONOR, org=collective)
    paused_offer = make_offer(collective, paused_donor, title="Paused tourniquets")
    coordinator = make_user(role=Role.COORDINATOR)
    db.session.commit()
    return {
        "group": group,
        "organizer": organizer,
        "need": need,
        "donor": donor,
        "offer": offer,
        "collective": collective,
        "paused_offer": paused_offer,
        "coordinator": coordinator,
    }


def _ids(response, key: str = "id") -> set[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item[key] for item in response.get_json()["items"]}


def test_a_suspended_groups_need_leaves_lists_map_candidates_and_runs(
    suspended_world, client, login_as, switch, api_client
):
    w = suspended_world
    need, offer = w["need"], w["offer"]
    login_as(w["donor"])
    assert need.title in text(client.get("/needs"))  # before: listed
    decide(w["group"], "suspend", w["coordinator"], reason="Reported")
    decide(w["collective"], "suspend", w["coordinator"], reason="Reported")
    db.session.commit()

    for viewer in (w["donor"], w["coordinator"]):
        switch(viewer)
        assert need.title not in text(client.get("/needs?status=all"))
        assert need.id not in _ids(client.get("/map/data.json?kind=needs&status=all"))
        assert w["paused_offer"].id not in _ids(client.get("/map/data.json?kind=offers"))
        api = api_client(viewer)
        assert need.id not in _ids(api.get("/needs?status=all"))
        assert w["paused_offer"].id not in _ids(api.get("/offers"))
        assert need.id not in _ids(api.get(f"/offers/{offer.id}/candidates"), "need_id")
    # A coordinator still opens it by its address; a donor does not find it.
    assert client.get(f"/needs/{need.id}").status_code == 200
    switch(w["donor"])
    assert client.get(f"/needs/{need.id}").status_code == 404
    # Its own members still see it.
    switch(w["organizer"])
    assert need.title in text(client.get("/needs?mine=y&status=all"))

    run = run_matching(w["coordinator"], category_slug="tourniquets")
    assert run.proposals == 0 and run.needs_considered == 0


def test_a_verified_group_again_is_listed_and_matched(suspended_world):
    w = suspended_world
    decide(w["group"], "suspend", w["coordinator"], reason="Reported")
    decide(w["group"], "verify", w["coordinator"], reason="Cleared by a call")
    db.session.commit()
    run = run_matching(w["coordinator"], category_slug="tourniquets")
    assert run.needs_considered == 1 and run.proposals == 1


# --- the migration's data step ---------------------------------------------------------------


def test_migration_gives_states_and_makes_the_first_member_owner(empty_database_url):
    app = make_test_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0008")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO organizations (id, name, name_key, kind, contact, public_name,"
                    " verified_at, created_at, updated_at) VALUES"
                    " (1, 'A', 'a', 'frontline_group', '', false, '2026-01-01 00:00:00', "
                    "'2026-01-01 00:00:00', '2026-01-01 00:00:00'),"
                    " (2, 'B', 'b', 'donor_collective', '', false, NULL,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, email, password_hash, display_name, role,"
                    " organization_id, language, active, created_at, updated_at) VALUES"
                    " (5, 'a1@x.org', 'h', 'A1', 'organizer', 1, 'uk', true, '2026-01-01', '2026-01-01'),"
                    " (3, 'a0@x.org', 'h', 'A0', 'organizer', 1, 'uk', true, '2026-01-01', '2026-01-01'),"
                    " (7, 'b1@x.org', 'h', 'B1', 'donor', 2, 'uk', true, '2026-01-01', '2026-01-01'),"
                    " (9, 'c@x.org', 'h', 'C', 'coordinator', NULL, 'uk', true, '2026-01-01', '2026-01-01')"
                )
            )
        upgrade()
        with db.engine.connect() as conn:
            states = dict(conn.execute(sa.text("SELECT id, state FROM organizations")).all())
            roles = dict(conn.execute(sa.text("SELECT id, org_role FROM users")).all())
        assert states == {1: "verified", 2: "unverified"}
        assert roles == {3: "owner", 5: "member", 7: "owner", 9: "member"}
        db.engine.dispose()


def test_a_suspended_groups_pending_match_stays_and_coordinators_see_why(client, login_as):
    from aidmatch.matches import operations as ops
    from tests.match_helpers import make_cast

    cast = make_cast()
    match = ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    decide(cast.group, "suspend", cast.coordinator, reason="Reported")
    db.session.commit()
    login_as(cast.coordinator)
    page = text(client.get(f"/matches/{match.id}"))
    assert match.status == "pending"
    assert '<span class="badge warn">suspended</span>' in page
    queue = text(client.get("/review"))
    assert f'id="m{match.id}"' in queue and '<span class="badge warn">suspended</span>' in queue


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.DONOR])
def test_a_removed_member_uses_the_site_without_an_organization(client, login_as, role, api_client):
    org = make_org(
        kind=OrgKind.FRONTLINE_GROUP if role == Role.ORGANIZER else OrgKind.DONOR_COLLECTIVE
    )
    owner = make_user(role=role, org=org, org_role=OWNER)
    member = make_user(role=role, org=org)
    offer_org = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    offer = make_offer(offer_org, make_user(role=Role.DONOR, org=offer_org))
    need = make_need(make_org(), None)
    remove_member(org, member, owner)
    db.session.commit()
    login_as(member)
    for path in ("/", "/needs", "/offers", "/matches", "/map", "/account", "/notifications",
                 f"/needs/{need.id}", f"/offers/{offer.id}"):  # fmt: skip
        assert client.get(path).status_code == 200, path
    assert client.get("/needs/new").status_code == 403
    assert client.get(f"/needs/{need.id}/claim").status_code == 403
    assert api_client(member).get("/me").status_code == 200


def test_a_suspended_collective_may_not_claim(app):
    from aidmatch.matches import operations as ops
    from tests.match_helpers import make_cast

    cast = make_cast()
    decide(cast.donor_org, "suspend", cast.coordinator, reason="Reported")
    with pytest.raises(NotAllowed) as exc:
        ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    assert "suspended" in exc.value.message


def test_a_coordinator_does_not_decide_about_her_own_organization(client, login_as):
    """A coordinator who belongs to a group does not lift its suspension (nor verify, nor
    suspend it): another coordinator decides, as with her organization's matches."""
    org = make_org(name="Own Group", verified=False)
    insider = make_user(role=Role.COORDINATOR, org=org)
    with pytest.raises(NotAllowed):
        decide(org, "verify", insider, reason="It is my group")
    assert org.state == OrgState.UNVERIFIED and events("org.verify") == []
    decide(org, "suspend", make_user(role=Role.COORDINATOR), reason="Reported")
    db.session.commit()
    login_as(insider)
    assert f"/orgs/{org.id}/verify" not in text(client.get(f"/orgs/{org.id}"))
    client.post(f"/orgs/{org.id}/verify", data={"verify-reason": "Lifting it myself"})
    assert db.session.get(Organization, org.id).state == OrgState.SUSPENDED


def test_a_suspended_collective_may_not_accept_an_approved_request(app):
    """A group asked for an offer and a coordinator approved it; the collective was suspended
    before it answered: its acceptance would confirm the match and show it the group's exact
    point and contact, so it is refused and nothing changes."""
    from aidmatch.matches import operations as ops
    from aidmatch.matches.models import MatchStatus
    from tests.match_helpers import make_cast

    cast = make_cast()
    match = ops.request_offer(cast.offer, cast.organizer, cast.need, 5).match
    ops.approve(match, cast.coordinator)
    decide(cast.donor_org, "suspend", cast.coordinator, reason="Reported")
    with pytest.raises(NotAllowed) as exc:
        ops.accept(match, cast.donor)
    assert "suspended" in exc.value.message
    assert match.status == MatchStatus.PENDING and match.donor_accepted_at is None


def test_a_removed_member_cannot_come_back_with_an_invite_code_seen_on_the_page(client, login_as):
    """Every member sees the organization's open invite codes on its page: a removal ends
    them, so the person removed cannot register again into the group with one of them."""
    from aidmatch.refusals import Refusal

    org, owner, member, _other = group_with_members(name="Careful Group")
    invite = make_invite(org, created_by=owner)
    db.session.commit()
    login_as(member)
    assert invite.code in text(client.get(f"/orgs/{org.id}"))
    remove_member(org, member, owner)
    db.session.commit()
    with pytest.raises(Refusal):
        register_with_invite(invite.code, "back@example.org", "a long passphrase 3", "Back")
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "back@example.org")) is None
    (event,) = events("org.member_remove")
    assert event.after["invites_ended"] == 1
    fresh = make_invite(org, created_by=owner)  # the owners make new ones
    joined = register_with_invite(fresh.code, "new@example.org", "a long passphrase 4", "New")
    assert joined.organization_id == org.id


def test_a_donor_does_not_confirm_a_match_of_a_group_suspended_after_approval(app):
    """A coordinator approved an engine proposal, then the group was suspended: the donor's
    acceptance would confirm it (goods sent, the group's point shown) with no coordinator
    seeing the suspension, so it is refused and the match waits."""
    from aidmatch.matches import operations as ops
    from aidmatch.matches.models import MatchSource, MatchStatus
    from tests.match_helpers import make_cast

    cast = make_cast()
    match = ops.reserve(cast.need, cast.offer, cast.donor_org, 5, source=MatchSource.ENGINE)
    ops.approve(match, cast.coordinator)
    decide(cast.group, "suspend", cast.coordinator, reason="Reported")
    with pytest.raises(NotAllowed) as exc:
        ops.accept(match, cast.donor)
    assert "this group" in exc.value.message
    assert match.status == MatchStatus.PENDING and match.donor_accepted_at is None


@pytest.mark.parametrize("suspended", ["donor_org", "group"])
def test_the_match_page_offers_no_acceptance_the_verb_would_refuse(client, login_as, suspended):
    """A coordinator approved; then one side was suspended: the acceptance is refused (the
    tests above), so the donor's page shows no accept button, and the lists put the match
    among those waiting, not among those to answer."""
    from aidmatch.matches import lifecycle
    from aidmatch.matches import operations as ops
    from aidmatch.matches.models import MatchSource
    from aidmatch.matches.rules import can_view_match
    from tests.match_helpers import make_cast

    cast = make_cast()
    match = ops.reserve(cast.need, cast.offer, cast.donor_org, 5, source=MatchSource.ENGINE)
    ops.approve(match, cast.coordinator)
    db.session.commit()
    login_as(cast.donor)
    accept = f"/matches/{match.id}/accept"
    assert accept in text(client.get(f"/matches/{match.id}"))  # before: offered
    decide(getattr(cast, suspended), "suspend", cast.coordinator, reason="Reported")
    db.session.commit()
    assert can_view_match(cast.donor, match)
    page = text(client.get(f"/matches/{match.id}"))
    assert accept not in page and f"/matches/{match.id}/decline" in page
    refused = lifecycle.refusal("accept", cast.donor, match, match.created_at)
    assert isinstance(refused, NotAllowed) and "suspended" in refused.message
    assert client.post(accept, data={"quantity": 5}).status_code == 403
    answer = text(client.get("/matches")).split('id="answer"')[1].split('id="ship"')[0]
    assert accept not in answer and "Nothing waits for your answer." in answer


def test_staff_see_a_suspended_groups_open_needs_on_its_page_marked_out_of_play(
    suspended_world, client, login_as, switch
):
    """Its needs leave every list, but its page is where a coordinator looks at what it
    posted: they are there, marked as taking part in nothing; nobody else finds them."""
    w = suspended_world
    decide(w["group"], "suspend", w["coordinator"], reason="Reported")
    db.session.commit()
    login_as(w["coordinator"])
    page = text(client.get(f"/orgs/{w['group'].id}"))
    listed = page.split('id="org-postings"')[1].split("</section>")[0]
    assert w["need"].title in listed and "No open needs." not in listed
    assert "Not in play" in listed
    switch(w["donor"])
    response = client.get(f"/orgs/{w['group'].id}")
    assert response.status_code == 403 and w["need"].title not in text(response)
    switch(w["organizer"])  # its own members see them, as in their lists
    assert w["need"].title in text(client.get(f"/orgs/{w['group'].id}"))


def test_a_verified_groups_page_lists_its_needs_without_the_mark(suspended_world, client, login_as):
    w = suspended_world
    login_as(w["coordinator"])
    listed = text(client.get(f"/orgs/{w['group'].id}")).split('id="org-postings"')[1]
    assert w["need"].title in listed and "Not in play" not in listed


def test_un_verifying_tells_the_members_with_the_reason_in_their_language(app):
    from aidmatch.notify.messages import render

    org, owner, member, other = group_with_members(name="Doubted Group")
    owner.language = "uk"
    coordinator = make_user(role=Role.COORDINATOR)
    decide(org, "unverify", coordinator, reason="Contact changed hands")
    db.session.commit()
    told = list(
        db.session.scalars(select(Notification).where(Notification.kind == "org_unverified"))
    )
    assert {n.user_id for n in told} == {owner.id, member.id, other.id}
    assert all(n.organization_id == org.id for n in told)
    (note,) = [n for n in told if n.user_id == owner.id]
    assert note.params == {"organization": "Doubted Group", "reason": "Contact changed hands"}
    english = render(note, "en").text
    assert "Doubted Group" in english and "Contact changed hands" in english
    # Each channel renders it in the recipient's language (the words: notes/tr-fixes16.json
    # until the catalogues are merged); the organization's name and the reason stay as typed.
    ukrainian = render(note, owner.language).text
    assert "Doubted Group" in ukrainian and "Contact changed hands" in ukrainian
