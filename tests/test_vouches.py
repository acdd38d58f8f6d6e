"""Groups vouching for groups (issue 18, part 4): the neighbouring oblasts, the verbs and their
refusals, the badge's rule (two vouches from verified organizations of the same or a
neighbouring oblast), what donors see (the badge and the non-sensitive needs, never who
vouched), withdrawal, a coordinator's rejection or suspension overriding and telling the
vouchers and the coordinators, the coordinators' view, the audit trail, pages and API."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from aidmatch.audit.models import AuditEvent
from aidmatch.extensions import db
from aidmatch.notify.models import Notification
from aidmatch.orgs.models import OrgKind, OrgRole, Vouch
from aidmatch.orgs.operations import decide
from aidmatch.orgs.vouches import REASON_MAX, is_vouched, vouch, vouched_ids, withdraw
from aidmatch.permissions import Role
from aidmatch.places.labels import UA_OBLASTS
from aidmatch.places.neighbours import BORDERS, near, neighbours
from aidmatch.privacy import Viewer
from aidmatch.refusals import Conflict, Invalid, NotAllowed
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_place

OWNER = OrgRole.OWNER
BASE_MAP = Path(__file__).resolve().parent.parent / "static" / "geo" / "ukraine.geojson"


def text(response) -> str:
    return response.get_data(as_text=True)


# --- which oblasts border which ----------------------------------------------------------------


def test_known_neighbours():
    assert neighbours("Kharkiv Oblast") == {
        "Poltava Oblast",
        "Sumy Oblast",
        "Dnipropetrovsk Oblast",
        "Donetsk Oblast",
        "Luhansk Oblast",
    }
    assert neighbours("Kyiv") == {"Kyiv Oblast"}  # the city lies inside Kyiv Oblast
    assert "Kyiv" in neighbours("Kyiv Oblast")
    assert neighbours("Sevastopol") == {"Autonomous Republic of Crimea"}
    assert near("Lviv Oblast", "Lviv Oblast") and near("Volyn Oblast", "Lviv Oblast")
    assert not near("Lviv Oblast", "Kharkiv Oblast")
    assert not near(None, "Kharkiv Oblast") and not near("Kharkiv Oblast", "Bavaria")


def test_the_table_is_symmetric_and_names_every_region_as_the_gazetteer_does():
    assert set(BORDERS) == {en for en, _uk in UA_OBLASTS}
    for name, others in BORDERS.items():
        assert name not in others
        for other in others:
            assert name in BORDERS[other], (name, other)


def _shared_border(a: list, b: list, eps: float = 0.02) -> bool:
    grid: dict = {}
    for x, y in b:
        grid.setdefault((round(x / eps), round(y / eps)), []).append((x, y))
    shared = 0
    for x, y in a:
        cell = (round(x / eps), round(y / eps))
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for qx, qy in grid.get((cell[0] + dx, cell[1] + dy), ()):
                    shared += abs(qx - x) < eps and abs(qy - y) < eps
    return shared >= 2


def test_the_table_is_what_the_shipped_base_map_draws():
    raw = BASE_MAP.read_bytes()
    data = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    outlines: dict[str, list] = {}
    for feature in data["features"]:
        geometry = feature["geometry"]
        if geometry["type"] == "Polygon":
            rings = geometry["coordinates"]
        elif geometry["type"] == "MultiPolygon":
            rings = [ring for polygon in geometry["coordinates"] for ring in polygon]
        else:
            continue
        points = outlines.setdefault(feature["properties"]["name"], [])
        for ring in rings:
            points.extend(ring)
    drawn = {
        name: {
            other for other in outlines if other != name and _shared_border(pts, outlines[other])
        }
        for name, pts in outlines.items()
    }
    assert drawn == {name: set(others) for name, others in BORDERS.items()}


def test_the_setting_is_on_by_default_and_read_as_yes_or_no(tmp_path):
    from aidmatch.config import ConfigError, load_config

    testing = {"AIDMATCH_ENV": "testing"}
    assert load_config(tmp_path, env=testing)["VOUCHED_NEEDS_SHOWN"] is True
    for raw, value in (("no", False), ("OFF", False), ("0", False), ("yes", True), ("1", True)):
        config = load_config(tmp_path, env={**testing, "VOUCHED_NEEDS_SHOWN": raw})
        assert config["VOUCHED_NEEDS_SHOWN"] is value, raw
    with pytest.raises(ConfigError, match="VOUCHED_NEEDS_SHOWN"):
        load_config(tmp_path, env={**testing, "VOUCHED_NEEDS_SHOWN": "maybe"})


# --- the world -------------------------------------------------------------------------------


@pytest.fixture
def world(app):
    kharkiv = make_place("Kharkiv test", oblast="Kharkiv Oblast")
    poltava = make_place("Poltava test", lat=49.59, lon=34.55, oblast="Poltava Oblast")
    lviv = make_place("Lviv test", lat=49.84, lon=24.03, oblast="Lviv Oblast")
    group = make_org(name="New Group Sigma", verified=False, place=kharkiv)
    organizer = make_user(org=group, org_role=OWNER)
    need = make_need(group, organizer, title="Sleeping bags Sigma")
    secret = make_need(group, organizer, title="Drone parts Sigma", sensitive=True)
    vouchers = {}
    for key, place in (("near", kharkiv), ("neighbour", poltava), ("far", lviv)):
        org = make_org(name=f"Voucher {key} Omega", kind=OrgKind.DONOR_COLLECTIVE, place=place)
        vouchers[key] = (org, make_user(Role.DONOR, org=org, org_role=OWNER))
    plain_member = make_user(Role.DONOR, org=vouchers["near"][0])
    donors = make_org(name="Donors Kappa", kind=OrgKind.DONOR_COLLECTIVE, place=lviv)
    donor = make_user(Role.DONOR, org=donors, org_role=OWNER)
    other_group = make_org(name="Other Group Kappa", place=kharkiv)
    other_organizer = make_user(org=other_group, org_role=OWNER)
    coordinator = make_user(Role.COORDINATOR)
    second_coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    return {
        "group": group,
        "organizer": organizer,
        "need": need,
        "secret": secret,
        "vouchers": vouchers,
        "plain_member": plain_member,
        "donor": donor,
        "other_organizer": other_organizer,
        "coordinator": coordinator,
        "second_coordinator": second_coordinator,
    }


def _need_ids(api) -> set[int]:
    response = api.get("/needs?status=all")
    assert response.status_code == 200, text(response)
    return {item["id"] for item in response.get_json()["items"]}


def _kinds_told(user) -> list[str]:
    return sorted(
        db.session.scalars(select(Notification.kind).where(Notification.user_id == user.id))
    )


# --- the story the issue asks for ------------------------------------------------------------


def test_two_vouches_show_the_badge_a_withdrawal_removes_it_a_rejection_overrides(
    world, client, login_as, switch, api_client
):
    w = world
    group, need, secret = w["group"], w["need"], w["secret"]
    (near_org, near_owner), (_n, neighbour_owner) = (
        w["vouchers"]["near"],
        w["vouchers"]["neighbour"],
    )
    far_owner = w["vouchers"]["far"][1]
    donor_api = api_client(w["donor"])
    assert need.id not in _need_ids(donor_api)  # unverified, nobody vouched: hidden

    # One vouch (the page) and one from far away (the API): not enough, not near enough.
    login_as(near_owner)
    page = client.get(f"/orgs/{group.id}/vouch")
    assert page.status_code == 200 and "New Group Sigma" in text(page)
    assert "does not count towards the badge" not in text(page)  # both in Kharkiv Oblast
    response = client.post(
        f"/orgs/{group.id}/vouch", data={"reason": "We delivered with them to Izium."}
    )
    assert response.status_code == 302, text(response)
    switch(far_owner)
    assert "does not count towards the badge" in text(client.get(f"/orgs/{group.id}/vouch"))
    switch(near_owner)
    response = api_client(far_owner).post(
        f"/orgs/{group.id}/vouches", json={"reason": "Known from Lviv volunteers."}
    )
    assert response.status_code == 201, text(response)
    db.session.expire_all()
    assert not is_vouched(group)
    assert need.id not in _need_ids(donor_api)

    # A second from a neighbouring oblast: vouched.
    response = api_client(neighbour_owner).post(
        f"/orgs/{group.id}/vouches", json={"reason": "Worked together in Poltava since 2023."}
    )
    assert response.status_code == 201, text(response)
    neighbour_vouch = response.get_json()["id"]
    db.session.expire_all()
    assert is_vouched(group)

    # Donors see the badge and the non-sensitive need; the sensitive one waits; never who.
    assert _need_ids(donor_api) & {need.id, secret.id} == {need.id}
    answer = donor_api.get(f"/needs/{need.id}")
    assert answer.status_code == 200
    assert answer.get_json()["organization"] == {
        "id": group.id,
        "name": group.name,
        "verified": False,
        "vouched": True,
    }
    assert donor_api.get(f"/needs/{secret.id}").status_code == 404
    switch(w["donor"])
    for path in (f"/needs/{need.id}", "/needs", "/map/data.json?kind=needs"):
        shown = text(client.get(path))
        assert "Sleeping bags Sigma" in shown or "sleeping" in shown.lower(), path
        assert "Omega" not in shown, path  # no voucher's name
        assert "Drone parts Sigma" not in shown, path
    need_page = text(client.get(f"/needs/{need.id}"))
    assert "vouched" in need_page and "can be claimed once a coordinator" in need_page
    assert f"/needs/{need.id}/claim" not in need_page  # shown, not claimed, until verified
    assert f'href="/orgs/{group.id}"' not in need_page
    assert client.get(f"/orgs/{group.id}").status_code == 403  # its page: members and staff
    assert donor_api.get(f"/orgs/{group.id}/vouches").status_code == 403
    assert donor_api.get("/vouches").status_code == 403
    # Other groups do not see it (donors do), nor donors when the setting is off.
    assert need.id not in _need_ids(api_client(w["other_organizer"]))
    client.application.config["VOUCHED_NEEDS_SHOWN"] = False
    assert need.id not in _need_ids(donor_api)
    client.application.config["VOUCHED_NEEDS_SHOWN"] = True

    # The group's own page says so and gives the link to pass on; names no voucher.
    switch(w["organizer"])
    own = text(client.get(f"/orgs/{group.id}"))
    assert f"/orgs/{group.id}/vouch" in own and "Omega" not in own

    # Coordinators see who vouched for whom, and why.
    switch(w["coordinator"])
    staff_page = text(client.get(f"/orgs/{group.id}"))
    assert "Voucher near Omega" in staff_page and "We delivered with them to Izium." in staff_page
    listing = text(client.get("/orgs/vouches?shown=active"))
    assert listing.count("New Group Sigma") == 3 and "Voucher far Omega" in listing
    of_group = api_client(w["coordinator"]).get(f"/orgs/{group.id}/vouches")
    assert {item["voucher"]["name"] for item in of_group.get_json()["items"]} == {
        "Voucher near Omega",
        "Voucher neighbour Omega",
        "Voucher far Omega",
    }

    # A withdrawal removes the badge, and the need leaves the donors' lists.
    response = api_client(neighbour_owner).post(f"/vouches/{neighbour_vouch}/withdraw")
    assert response.status_code == 200 and response.get_json()["withdrawn_at"]
    assert (
        api_client(neighbour_owner).post(f"/vouches/{neighbour_vouch}/withdraw").status_code == 409
    )
    db.session.expire_all()
    assert not is_vouched(group)
    assert need.id not in _need_ids(donor_api)

    # Vouched again (a new vouch after a withdrawal), then the coordinator rejects: overrides.
    again = vouch(w["vouchers"]["neighbour"][0], group, neighbour_owner, "Still vouch for them.")
    db.session.commit()
    assert is_vouched(group)
    decide(group, "reject", w["coordinator"], reason="Not a real group", note="Called twice")
    db.session.commit()
    assert not is_vouched(group) and again.active
    assert need.id not in _need_ids(donor_api)

    # The vouchers are told (without the coordinator's reason), and the coordinators with them.
    for owner in (near_owner, neighbour_owner, far_owner, w["plain_member"]):
        assert "vouched_org_rejected" in _kinds_told(owner), owner
    told = db.session.scalar(
        select(Notification).where(
            Notification.user_id == near_owner.id, Notification.kind == "vouched_org_rejected"
        )
    )
    assert told.organization_id == near_org.id and "Not a real group" not in json.dumps(told.params)
    assert "vouched_org_withdrawn" not in _kinds_told(w["coordinator"])  # who decided knows
    note = db.session.scalar(
        select(Notification).where(
            Notification.user_id == w["second_coordinator"].id,
            Notification.kind == "vouched_org_withdrawn",
        )
    )
    assert note.params["vouchers"] == [
        "Voucher far Omega",
        "Voucher near Omega",
        "Voucher neighbour Omega",
    ]
    assert note.organization_id == group.id
    inbox = api_client(w["second_coordinator"]).get("/notifications").get_json()["items"]
    words = next(item["text"] for item in inbox if item["kind"] == "vouched_org_withdrawn")
    assert "New Group Sigma is now rejected" in words and "Voucher near Omega" in words

    # All of it in the audit trail.
    actions = list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("vouch.%"))
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["vouch.create"] * 3 + ["vouch.withdraw", "vouch.create"]


def test_a_suspension_overrides_and_tells_the_vouchers(world):
    w = world
    group = w["group"]
    for key in ("near", "neighbour"):
        org, owner = w["vouchers"][key]
        vouch(org, group, owner, f"We know them ({key}).")
    db.session.flush()
    donor_view = Viewer(w["donor"])
    assert donor_view.sees_row(w["need"], sensitive=False)
    assert not donor_view.sees_row(w["secret"], sensitive=True)
    decide(group, "suspend", w["coordinator"], reason="Reported")
    assert group.id not in vouched_ids([group.id])
    assert not Viewer(w["donor"]).sees_row(w["need"], sensitive=False)
    assert "vouched_org_suspended" in _kinds_told(w["vouchers"]["near"][1])
    assert "vouched_org_withdrawn" in _kinds_told(w["second_coordinator"])


def test_only_vouchers_of_the_same_or_a_neighbouring_oblast_count(world):
    w = world
    lviv = db.session.get(type(w["group"].place), w["vouchers"]["far"][0].place_id)
    western = make_org(name="Western Group Sigma", verified=False, place=lviv)
    for key in ("near", "neighbour"):  # Kharkiv Oblast and Poltava Oblast: far from Lviv
        org, owner = w["vouchers"][key]
        vouch(org, western, owner, "We know them from the east.")
        vouch(org, w["group"], owner, "We know them.")
    assert vouched_ids([western.id, w["group"].id]) == {w["group"].id}
    volyn = make_place("Lutsk test", lat=50.75, lon=25.34, oblast="Volyn Oblast")
    neighbour = make_org(name="Volyn Omega", kind=OrgKind.DONOR_COLLECTIVE, place=volyn)
    neighbour_owner = make_user(Role.DONOR, org=neighbour, org_role=OWNER)
    far_org, far_owner = w["vouchers"]["far"]
    vouch(far_org, western, far_owner, "Our neighbours in Lviv.")
    assert not is_vouched(western)
    vouch(neighbour, western, neighbour_owner, "Across the oblast border.")
    assert vouched_ids([western.id, w["group"].id]) == {western.id, w["group"].id}


def test_a_voucher_that_is_no_longer_verified_no_longer_counts(world):
    w = world
    group = w["group"]
    for key in ("near", "neighbour"):
        org, owner = w["vouchers"][key]
        vouch(org, group, owner, "We know them.")
    assert is_vouched(group)
    decide(w["vouchers"]["near"][0], "unverify", w["coordinator"], reason="Re-check")
    assert not is_vouched(group)


# --- refusals --------------------------------------------------------------------------------


def test_who_may_vouch_for_whom(world, english):
    w = world
    group = w["group"]
    near_org, near_owner = w["vouchers"]["near"]
    with pytest.raises(NotAllowed, match="owner of a verified organization"):
        vouch(near_org, group, w["plain_member"], "We know them.")  # a member, not an owner
    with pytest.raises(NotAllowed):
        vouch(group, w["vouchers"]["far"][0], w["organizer"], "We know them.")  # unverified
    with pytest.raises(Conflict, match="itself"):
        vouch(near_org, near_org, near_owner, "We are great.")
    with pytest.raises(Conflict, match="waiting for verification"):
        vouch(near_org, w["vouchers"]["far"][0], near_owner, "They are verified already.")
    for reason, words in (("   ", "how you know them"), ("x" * (REASON_MAX + 1), "at most")):
        with pytest.raises(Invalid, match=words) as refused:
            vouch(near_org, group, near_owner, reason)
        assert refused.value.field == "reason"
    row = vouch(near_org, group, near_owner, "  We  know\nthem.  ")
    assert row.reason == "We know them."
    with pytest.raises(Conflict, match="already vouches"):
        vouch(near_org, group, near_owner, "Twice.")
    with pytest.raises(NotAllowed, match="owners of the organization that vouched"):
        withdraw(row, w["vouchers"]["far"][1])
    withdraw(row, near_owner)
    with pytest.raises(Conflict, match="already withdrawn"):
        withdraw(row, near_owner)
    assert db.session.scalar(select(Vouch.withdrawn_by_id).where(Vouch.id == row.id)) == (
        near_owner.id
    )


def test_refusals_on_the_page_and_the_api(world, client, login_as, api_client):
    w = world
    group = w["group"]
    login_as(w["plain_member"])
    assert client.get(f"/orgs/{group.id}/vouch").status_code == 403
    near_owner = w["vouchers"]["near"][1]
    member_api = api_client(w["plain_member"])
    # 403 before the body is read: a member (not an owner), a group waiting itself.
    assert member_api.post(f"/orgs/{group.id}/vouches", data="not json").status_code == 403
    assert (
        api_client(w["organizer"])
        .post(f"/orgs/{w['vouchers']['far'][0].id}/vouches", json={"reason": "x"})
        .status_code
        == 403
    )
    owner_api = api_client(near_owner)
    assert owner_api.post(f"/orgs/{group.id}/vouches", json={}).status_code == 422
    empty = owner_api.post(f"/orgs/{group.id}/vouches", json={"reason": " "})
    assert empty.status_code == 422 and "reason" in empty.get_json()["error"]["fields"]
    assert owner_api.post("/orgs/999999/vouches", json={"reason": "x"}).status_code == 404
    assert owner_api.post(f"/orgs/{group.id}/vouches", json={"reason": "Yes."}).status_code == 201
    twice = owner_api.post(f"/orgs/{group.id}/vouches", json={"reason": "Again."})
    assert twice.status_code == 409
    # The page keeps what was typed and says why.
    client.post("/logout")
    login_as(near_owner)
    page = client.post(f"/orgs/{group.id}/vouch", data={"reason": "x" * (REASON_MAX + 5)})
    assert page.status_code == 422 and "x" * (REASON_MAX + 5) in text(page)
    page = client.post(f"/orgs/{group.id}/vouch", data={"reason": "Third time."})
    assert page.status_code == 409 and "already vouches" in text(page)
    # A page for a group not waiting, or for one's own organization, says why: no form.
    for org in (w["vouchers"]["far"][0], w["vouchers"]["near"][0]):
        page = text(client.get(f"/orgs/{org.id}/vouch"))
        assert "Vouch for them" not in page
        assert "waiting for verification can be" in page or "cannot vouch for itself" in page
    # The organization page lists the vouch made, with the button to withdraw it.
    own = text(client.get(f"/orgs/{w['vouchers']['near'][0].id}"))
    assert "New Group Sigma" in own and "Withdraw the vouch" in own
    row = db.session.scalar(select(Vouch).where(Vouch.vouched_id == group.id))
    assert client.post(f"/orgs/vouches/{row.id}/withdraw").status_code == 302
    db.session.expire_all()
    assert row.withdrawn_at is not None


# --- at once ---------------------------------------------------------------------------------


def test_two_owners_vouching_and_withdrawing_at_once_do_each_once(conc_app):
    """Two owners of one organization vouch for the same group at the same moment (real
    connections): one vouch (201), one refusal (409); then both withdraw it at once: one
    withdrawal (200), one refusal (409)."""
    from collections import Counter

    from aidmatch.auth.tokens import issue
    from tests.test_matches_concurrency import Caller, assert_no_server_errors, run_together

    with conc_app.app_context():
        group = make_org(name="Concurrent Group Sigma", verified=False)
        voucher = make_org(name="Concurrent Omega", kind=OrgKind.DONOR_COLLECTIVE)
        callers = [
            Caller(conc_app, issue(make_user(Role.DONOR, org=voucher, org_role=OWNER), 1)[0])
            for _ in range(2)
        ]
        group_id = group.id
        db.session.commit()

    body = {"reason": "We know them."}
    answers = run_together(
        [lambda c=c: c("POST", f"/orgs/{group_id}/vouches", body, {}) for c in callers]
    )
    assert_no_server_errors(answers)
    assert Counter(code for code, _answer in answers) == {201: 1, 409: 1}
    vouch_id = next(answer["id"] for code, answer in answers if code == 201)
    answers = run_together(
        [lambda c=c: c("POST", f"/vouches/{vouch_id}/withdraw", None, {}) for c in callers]
    )
    assert_no_server_errors(answers)
    assert Counter(code for code, _answer in answers) == {200: 1, 409: 1}
    with conc_app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("vouch.%"))
        ).all()
        assert sorted(actions) == ["vouch.create", "vouch.withdraw"]
