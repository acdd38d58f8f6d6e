"""Bearer tokens: issue, use, revoke, expire; wrong passwords are rate-limited like logins."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from aidmatch.auth.models import ApiToken
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.permissions import Role
from tests.factories import PASSWORD, make_user


def test_token_issue_use_and_revoke(app, client):
    user = make_user(Role.DONOR, email="Donor@Example.org")
    db.session.commit()
    response = client.post(
        "/api/v1/tokens", json={"email": "DONOR@example.org", "password": PASSWORD}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["expires_at"] > utcnow().isoformat()
    headers = {"Authorization": f"Bearer {body['token']}"}
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["email"] == "donor@example.org" and me["organization"]["id"] == user.organization_id
    assert client.delete("/api/v1/tokens/current", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    # Only the digest is stored.
    assert body["token"] not in set(db.session.scalars(select(ApiToken.digest)))


def test_expired_token_and_session_cookie_are_not_accepted(app, client, login_as, api_client):
    user = make_user(Role.DONOR)
    db.session.commit()
    api = api_client(user)
    token = db.session.scalars(select(ApiToken)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert api.get("/me").status_code == 401
    login_as(user)  # a browser session does not authenticate the JSON API (no CSRF there)
    assert client.get("/api/v1/me").status_code == 401


def test_wrong_password_is_401_and_rate_limited(app, client):
    make_user(Role.DONOR, email="target@example.org")
    db.session.commit()
    codes = [
        client.post(
            "/api/v1/tokens", json={"email": "target@example.org", "password": "wrong"}
        ).status_code
        for _ in range(6)
    ]
    # the account's short window (LOGIN_ACCOUNT_RATE_LIMIT, 5 per minute) stops the sixth
    assert codes == [401] * 5 + [429]
    error = client.post(
        "/api/v1/tokens", json={"email": "target@example.org", "password": PASSWORD}
    )
    assert error.status_code == 429
    assert error.get_json()["error"]["code"] == "too_many_requests"
