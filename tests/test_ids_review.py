"""An id in a path beyond the database's integer range (db.MAX_ID) is a 404, on every route
at once (the app's "int" converter), not a 500 where a view forgot db.is_id: the routes added
with reports, money and vouching did (SQLite's OverflowError, PostgreSQL's DataError)."""

from __future__ import annotations

import pytest

from aidmatch.db import MAX_ID
from aidmatch.extensions import db
from aidmatch.orgs.models import OrgKind, OrgRole
from aidmatch.permissions import Role
from tests.factories import make_org, make_user

HUGE = "99999999999999999999"


@pytest.fixture
def owner(app):
    org = make_org("Converter collective", kind=OrgKind.DONOR_COLLECTIVE)
    user = make_user(Role.DONOR, org=org, org_role=OrgRole.OWNER)
    db.session.commit()
    return user


@pytest.mark.parametrize(
    "path",
    [
        f"/reports/org/{HUGE}",
        f"/reports/org/{HUGE}.pdf",
        f"/orgs/{HUGE}/payment-details",
        f"/orgs/{HUGE}/vouch",
        f"/orgs/{HUGE}",
        f"/orgs/{MAX_ID + 1}",
    ],
)
def test_pages_answer_404(owner, client, login_as, path):
    login_as(owner)
    assert client.get(path).status_code == 404
    assert client.post(f"/orgs/vouches/{HUGE}/withdraw").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", f"/orgs/{HUGE}/vouches", {"reason": "We know them."}),
        ("post", f"/vouches/{HUGE}/withdraw", {}),
        ("put", f"/orgs/{HUGE}/payment-details", {"link": "https://pay.example.org"}),
    ],
)
def test_the_api_answers_404(owner, api_client, method, path, body):
    response = getattr(api_client(owner), method)(path, json=body)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"]


def test_a_coordinator_s_report_file_is_404(app, client, login_as):
    login_as(make_user(Role.COORDINATOR))
    assert client.get(f"/reports/files/{HUGE}").status_code == 404
    assert client.get(f"/reports/files/{HUGE}.pdf").status_code == 404
