"""Forms that help (issue 16, item 9): registration reports every problem at once with a
summary linked to the fields; an unverified group is told, wherever its own need is shown,
that donors do not see it yet; the small defects (a unit followed by a second full stop, no
icon, the API's raw tag names) are mended."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from aidmatch.auth.models import User
from aidmatch.extensions import db
from aidmatch.orgs.models import Invite, OrgKind
from aidmatch.permissions import Role
from tests.factories import count, make_invite, make_org, make_user
from tests.posting_factories import make_need
from tests.test_auth_views import field_errors, join_form, new_org_form
from tests.test_posting_once import flashes, form_data, signed_in, token_in

NOTICE = "Visible to donors once a coordinator verifies your group."


def summary_links(html: str) -> dict[str, str]:
    """The error summary's entries: {anchor: text}."""
    found = re.search(r'<div class="error-summary" id="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert found, "no error summary"
    return dict(re.findall(r'<a href="#([^"]+)">([^<]+)</a>', found.group(1)))


def test_registration_reports_every_problem_at_once_with_a_linked_summary(client):
    make_org("Kharkiv Field Medics")
    data = new_org_form(
        email="not an address",
        display_name="",
        password="short",
        password_confirm="different",
        org_kind="",
    )
    response = client.post("/register", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    links = summary_links(html)
    # The form's own checks and the verbs' (a weak password, a taken name) together.
    assert set(links) == {"email", "display_name", "password", "password_confirm", "org_name",
                          "org_kind"}  # fmt: skip
    assert "already registered" in links["org_name"]
    assert "There are 6 problems with what you entered" in html
    for anchor in links:  # each entry leads to its field, which shows the error too
        assert f'id="{anchor}"' in html
        assert field_errors(html, anchor)
    assert html.index('id="error-summary"') < html.index("<form")
    assert 'value="Kharkiv Field Medics"' in html  # what was typed is kept
    assert count(User) == 0


def test_a_weak_password_and_an_unknown_invite_code_are_reported_together(client):
    make_invite(make_org("Lviv Supply", kind=OrgKind.SUPPLY_COLLECTIVE))
    data = join_form("ZZZZ-ZZZZ-ZZZZ-ZZZZ", password="short", password_confirm="short")
    html = client.post("/register", data=data).get_data(as_text=True)
    links = summary_links(html)
    assert set(links) == {"password", "invite_code"}
    assert "not known" in links["invite_code"]
    assert count(User) == 0


def test_a_used_invite_code_stays_unused_after_a_refused_registration(client):
    invite = make_invite(make_org("Lviv Supply", kind=OrgKind.SUPPLY_COLLECTIVE))
    db.session.commit()
    data = join_form(invite.code, password="short", password_confirm="short")
    html = client.post("/register", data=data).get_data(as_text=True)
    assert set(summary_links(html)) == {"password"}
    db.session.expire_all()
    assert db.session.get(Invite, invite.id).used_at is None  # tried, and rolled back
    good = client.post("/register", data=join_form(invite.code))
    assert good.status_code == 302
    joined = db.session.scalars(select(User).where(User.email == "olena@example.org")).one()
    assert joined.organization_id == invite.organization_id


def test_a_valid_registration_shows_no_summary(client):
    assert client.post("/register", data=new_org_form()).status_code == 302
    assert "error-summary" not in client.get("/register").get_data(as_text=True)


# An unverified group's own needs -------------------------------------------------------------


def test_an_unverified_group_is_told_after_posting_and_on_its_need(client, login_as):
    place = signed_in(login_as)
    user = db.session.scalars(select(User)).one()  # the one signed in
    user.organization.verified_at, user.organization.state = None, "unverified"
    db.session.commit()
    token = token_in(client.get("/needs/new").get_data(as_text=True))
    posted = client.post("/needs/new", data=form_data(place, idempotency_key=token))
    assert posted.status_code == 302
    page = client.get(posted.headers["Location"]).get_data(as_text=True)
    said = flashes(page)
    assert "Donors will see it once a coordinator verifies your group." in said
    assert "Your need is posted." not in said
    assert NOTICE in page
    listed = client.get("/needs?mine=y").get_data(as_text=True)
    assert "Tourniquets for the evacuation team" in listed and NOTICE in listed


def test_a_verified_group_and_staff_see_no_notice(client, switch):
    group = make_org("Verified group")
    organizer = make_user(Role.ORGANIZER, org=group)
    need = make_need(group, organizer, title="Stretchers")
    waiting = make_org("Waiting group", verified=False)
    other = make_need(waiting, make_user(Role.ORGANIZER, org=waiting), title="Blankets")
    db.session.commit()
    switch(organizer)
    assert NOTICE not in client.get(f"/needs/{need.id}").get_data(as_text=True)
    switch(make_user(Role.COORDINATOR))  # staff see the unverified group's need, not "your"
    page = client.get(f"/needs/{other.id}").get_data(as_text=True)
    assert "Blankets" in page and NOTICE not in page


# Small defects ------------------------------------------------------------------------------


def test_no_unit_is_followed_by_a_second_full_stop(app):
    """The hints that name a unit do not end it with a full stop: "шт." is one already."""
    for path in (Path(app.root_path).parent / "templates").rglob("*.html"):
        source = path.read_text()
        assert "%(unit)s." not in source, path
        assert not re.search(r"unit(_label\([^)]*\))? \}\}\.", source), path


def test_favicon_is_served_and_linked(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/x-icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert 'rel="icon"' in client.get("/login").get_data(as_text=True)


def test_openapi_tags_read_as_words(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    tags = {t["name"] for t in spec["tags"]}
    assert {"Needs", "Offers", "Matches", "Matching runs", "Places", "Categories"} <= tags
    assert not any(name.startswith("api_") for name in tags)
    used = {
        tag
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
        for tag in op.get("tags", [])
    }
    assert used <= tags and not any(name.startswith("api_") for name in used)
    assert spec["paths"]["/api/v1/needs"]["get"]["tags"] == ["Needs"]
