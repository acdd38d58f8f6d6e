"""Review finding on vouching: the vouch page (/orgs/<id>/vouch) is the link an organization
waiting for verification passes on; for any other organization a voucher may not see
(rejected, suspended), it does not exist: it named that organization and its settlement to any
owner of a verified organization who tried ids."""

from __future__ import annotations

from aidmatch.extensions import db
from aidmatch.orgs.lifecycle import OrgState
from aidmatch.orgs.models import OrgKind, OrgRole
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_place


def test_the_vouch_page_of_a_rejected_group_does_not_exist(app, client, login_as, api_client):
    place = make_place("Hollowmere", oblast="Kharkiv Oblast")
    rejected = make_org(name="Turned Down Ravens", verified=False, place=place)
    rejected.state = OrgState.REJECTED
    waiting = make_org(name="Waiting Wrens", verified=False, place=place)
    donors = make_org(name="Donors Lark", kind=OrgKind.DONOR_COLLECTIVE, place=place)
    owner = make_user(Role.DONOR, org=donors, org_role=OrgRole.OWNER)
    db.session.commit()
    login_as(owner)
    page = client.get(f"/orgs/{rejected.id}/vouch")
    assert page.status_code == 404
    assert "Turned Down Ravens" not in page.get_data(as_text=True)
    assert "Hollowmere" not in page.get_data(as_text=True)
    # The link a group waiting for verification passes on still works; and one's own page
    # (verified) still says why there is no form.
    assert "Waiting Wrens" in client.get(f"/orgs/{waiting.id}/vouch").get_data(as_text=True)
    own = client.get(f"/orgs/{donors.id}/vouch")
    assert own.status_code == 200 and "cannot vouch for itself" in own.get_data(as_text=True)
    # The API answers as the page does.
    api = api_client(owner)
    assert api.post(f"/orgs/{rejected.id}/vouches", json={"reason": "Yes."}).status_code == 404
    assert api.post(f"/orgs/{donors.id}/vouches", json={"reason": "Yes."}).status_code == 409
