"""A phone that keeps working offline, the server's half: the service worker's route and the
offline page, the forms that join static/js/offline.js, and a receipt sent twice with the same
one-time token confirmed once. The browser's half: tests/browser/test_offline_outbox.py."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.extensions import db
from aidmatch.matches.models import MatchStatus
from aidmatch.permissions import Role
from tests.factories import make_user
from tests.match_helpers import make_cast
from tests.test_static_assets import assets, file_hash


def shipped_match(quantity: int = 20):
    """A match of `quantity` shipped to a verified group (committed); (match, its organizer)."""
    from aidmatch.matches import operations as ops

    cast = make_cast(need_quantity=quantity)
    match = ops.claim_need(cast.need, cast.donor, quantity, offer=cast.offer)
    ops.approve(match, cast.coordinator)
    ops.ship(match, cast.donor, "Sent with Nova Poshta")
    db.session.commit()
    return match, cast.organizer


def test_the_service_worker_is_served_at_the_root_never_kept_by_the_http_cache(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.cache_control.no_store
    assert response.cache_control.max_age is None and not response.cache_control.immutable
    source = response.get_data(as_text=True)
    # It starts with what it precaches: the offline page and the files by their fingerprints,
    # so a changed file is a changed worker.
    first = source.splitlines()[0]
    assert first.startswith('var PRECACHE = ["/offline"')
    for path, fingerprint in re.findall(r'"(/static/[^"?]+)\?v=([0-9a-f]+)"', first):
        assert fingerprint == file_hash(path), path
    assert '"/static/js/offline.js?v=' in first
    assert 'addEventListener("fetch"' in source


def test_the_offline_page_holds_no_user_data_and_works_logged_out(client, login_as):
    anonymous = client.get("/offline")
    assert anonymous.status_code == 200
    user = make_user(Role.ORGANIZER, language="en")
    db.session.commit()
    login_as(user)
    page = client.get("/offline").get_data(as_text=True)
    assert user.email not in page and "csrf_token" not in page
    assert "data-offline-page" in page and "data-outbox" in page
    assert "/static/js/offline.js" in dict(assets(page))


def test_pages_of_a_logged_in_user_load_the_offline_script_and_the_list(client, login_as):
    assert "offline.js" not in client.get("/login").get_data(as_text=True)
    user = make_user(Role.ORGANIZER, language="en")
    db.session.commit()
    login_as(user)
    page = client.get("/needs/new").get_data(as_text=True)
    assert f'data-user="{user.id}"' in page and 'data-sw="/sw.js"' in page
    assert "data-outbox-badge" in page and 'id="outbox"' in page
    # Elsewhere the badge alone, leading to the list on the matches page.
    other = client.get("/needs").get_data(as_text=True)
    assert 'href="/matches#outbox"' in other and 'id="outbox"' not in other
    form = re.search(r"<form method=\"post\" class=\"card\"[^>]*>", page).group(0)
    assert 'data-offline="need"' in form and 'data-draft="' in form
    assert 'name="idempotency_key"' in page


def test_a_receipt_sent_twice_with_its_token_is_confirmed_once(app, login_as):
    match, group_user = shipped_match()
    client = login_as(group_user)
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    form = re.search(r"<form[^>]*confirm-delivery[^>]*>", page).group(0)
    assert 'data-offline="receipt"' in form and f':receipt:{match.id}"' in form
    key = re.search(
        r'id="idempotency_key-receipt-\d+" name="idempotency_key" type="hidden" '
        r'value="([^"]+)"',
        page,
    ).group(1)
    sent = {"idempotency_key": key, "quantity_received": "18", "note": ""}
    first = client.post(f"/matches/{match.id}/confirm-delivery", data=sent)
    assert first.status_code == 302
    again = client.post(f"/matches/{match.id}/confirm-delivery", data=sent, follow_redirects=True)
    assert again.status_code == 200
    assert "This receipt had already arrived." in again.get_data(as_text=True)
    db.session.refresh(match)
    assert match.status == MatchStatus.DELIVERED and match.quantity_received == 18
    confirmations = db.session.scalar(
        select(func.count()).where(
            AuditEvent.action == "match.confirm_delivery", AuditEvent.object_id == match.id
        )
    )
    assert confirmations == 1
    # Another sending (another token) of a receipt already confirmed is refused, as before.
    other = client.post(
        f"/matches/{match.id}/confirm-delivery", data={**sent, "idempotency_key": "another"}
    )
    assert other.status_code == 409


def test_the_api_confirms_a_receipt_once_per_idempotency_key(app, api_client):
    match, organizer = shipped_match()
    client = api_client(organizer)
    body = {"quantity_received": 18}
    headers = {"Idempotency-Key": "phone-17"}
    first = client.post(f"/matches/{match.id}/confirm-delivery", json=body, headers=headers)
    assert first.status_code == 200 and first.get_json()["quantity_received"] == 18
    again = client.post(f"/matches/{match.id}/confirm-delivery", json=body, headers=headers)
    assert again.status_code == 200 and again.get_json()["status"] == "delivered"
    other = client.post(
        f"/matches/{match.id}/confirm-delivery", json=body, headers={"Idempotency-Key": "x"}
    )
    assert other.status_code == 409


def test_a_receipt_link_joins_the_outbox_under_an_owner_made_from_the_link(app, login_as):
    from aidmatch.receipts.models import ReceiptLink
    from tests.test_receipts import make_slip

    match, organizer = shipped_match()
    client = login_as(organizer)
    path = make_slip(client, match)
    client.post("/logout")
    token = path.rsplit("/", 1)[-1]
    page = client.get(path).get_data(as_text=True)
    link = db.session.scalar(select(ReceiptLink))
    assert f'data-outbox-owner="receipt-{link.id}"' in page and 'data-sw="/sw.js"' in page
    assert 'id="outbox"' in page and "/static/js/offline.js" in dict(assets(page))
    form = re.search(r"<form method=\"post\" enctype=\"multipart/form-data\"[^>]*>", page).group(0)
    assert 'data-offline="receipt-link"' in form and 'name="idempotency_key"' in page
    # The token is in the page's own address only (the language switch comes back to it): not
    # in the outbox's owner, nor in the form.
    assert token not in form and page.count(token) == 1
    assert f'name="next" value="{path}"' in page
    # The service worker keeps a receipt link's page, as the pages of the field.
    assert r"/^\/r\/[A-Za-z0-9_-]{43}$/" in client.get("/sw.js").get_data(as_text=True)


def test_a_form_sent_by_the_outbox_script_gets_its_redirect_as_204_and_a_header(app, login_as):
    match, organizer = shipped_match()
    client = login_as(organizer)
    sent = {"idempotency_key": "fg-1", "quantity_received": "20", "note": ""}
    response = client.post(
        f"/matches/{match.id}/confirm-delivery", data=sent, headers={"X-Aidmatch-Send": "1"}
    )
    assert response.status_code == 204 and not response.get_data()
    assert response.headers["X-Aidmatch-Location"] == f"/matches/{match.id}"
    # The flashed message waits for the page the script opens.
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "Thank you: the receipt is confirmed." in page
    # Without the header: the usual redirect. A refusal is passed on as it is.
    refused = client.post(
        f"/matches/{match.id}/confirm-delivery",
        data={**sent, "idempotency_key": "fg-2"},
        headers={"X-Aidmatch-Send": "1"},
    )
    assert refused.status_code == 409
