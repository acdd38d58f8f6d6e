"""Proof of delivery: the delivery slip, the single-use receipt link signed without an
account, photos kept without their metadata, the group's dispute within 72 hours."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from sqlalchemy import func, select, update

from aidmatch.auth.models import Language
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.notify.models import Notification
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.photos.models import Photo
from aidmatch.receipts.models import Receipt, ReceiptLink
from tests.factories import make_org, make_user
from tests.match_helpers import make_cast

NOTE = "Call Oksana at the school gate"
EXACT = (49.712345, 37.612345)
GPS_LAT = (IFDRational(48, 1), IFDRational(51, 1), IFDRational(2957, 100))  # 48°51'29.57"
GPS_LON = (IFDRational(2, 1), IFDRational(17, 1), IFDRational(4011, 100))  # 2°17'40.11"


@pytest.fixture
def cast(app):
    cast = make_cast(lat=EXACT[0], lon=EXACT[1], delivery_note=NOTE)
    cast.donor.language = Language.DE
    db.session.commit()
    return cast


def confirmed(cast, quantity: int = 20) -> Match:
    match = ops.claim_need(cast.need, cast.donor, quantity, offer=cast.offer)
    ops.approve(match, cast.coordinator)
    db.session.commit()
    assert match.status == MatchStatus.CONFIRMED
    return match


def text(response) -> str:
    return response.get_data(as_text=True)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html
    )
    assert found, f"no hidden {name}"
    return found.group(1)


def make_slip(client, match) -> str:
    """Make the slip as the logged-in side; return the receipt link's path (/r/<token>)."""
    page = text(client.get(f"/matches/{match.id}/slip"))
    response = client.post(
        f"/matches/{match.id}/slip", data={"csrf_token": hidden(page, "csrf_token")}
    )
    assert response.status_code == 302
    page = text(client.get(f"/matches/{match.id}/slip"))
    found = re.search(r'href="http://[^/"]+(/r/[A-Za-z0-9_-]{43})"', page)
    assert found, page
    return found.group(1)


def gps_jpeg(size=(2400, 1800)) -> bytes:
    """A JPEG carrying GPS EXIF (and a camera make), as a phone writes it."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: GPS_LAT, 3: "E", 4: GPS_LON}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def receipt_form(client, path: str, **data) -> dict:
    page = client.get(path)
    assert page.status_code == 200, text(page)
    html = text(page)
    # No CSRF token: the suite runs without CSRF, and the receiver has no account (the
    # receipt's own form carries one when CSRF is on: tests/browser/test_offline_receipt.py).
    form = {
        "idempotency_key": hidden(html, "idempotency_key"),
        "condition": "full",
        "quantity_received": "20",
        "note": "",
        "signer_name": "Petro",
    }
    form.update(data)
    return form


def test_slip_in_both_languages_with_qr_and_no_point(cast, client, login_as):
    match = confirmed(cast)
    login_as(cast.donor)
    path = make_slip(client, match)
    page = text(client.get(f"/matches/{match.id}/slip"))
    main = page.split("<main")[1].split("</main>")[0]
    assert "<svg" in main and "<script" not in main  # the QR code needs no JavaScript
    assert f"#{match.id}" in page
    # The group reads English, the donor German: two blocks.
    assert 'lang="en"' in page and 'lang="de"' in page
    assert "Lieferschein" in page or "Delivery slip" in page
    assert "Tourniquets for the evacuation team" in page
    assert NOTE not in page and "712345" not in page and "612345" not in page
    # Printing it again gives the same link.
    assert path in text(client.get(f"/matches/{match.id}/slip"))
    assert db.session.scalar(select(func.count()).select_from(ReceiptLink)) == 1
    link = db.session.scalar(select(ReceiptLink))
    assert path.split("/")[-1] not in (link.token_hash, link.nonce)


def test_a_sensitive_needs_title_is_never_on_the_slip(app, client, login_as):
    cast = make_cast(sensitive=True, title="Insulin for the shelter on Lenina street")
    db.session.commit()
    match = confirmed(cast)
    login_as(cast.organizer)
    path = make_slip(client, match)
    assert "Insulin" not in text(client.get(f"/matches/{match.id}/slip"))
    client.post("/logout")
    assert "Insulin" not in text(client.get(path))


def test_a_third_organization_gets_404_for_slip_link_making_and_photos(cast, client, login_as):
    match = confirmed(cast)
    login_as(cast.donor)
    path = make_slip(client, match)
    client.post("/logout")
    other = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    stranger = make_user(Role.DONOR, org=other)
    db.session.commit()
    form = receipt_form(client, path)
    form["photos"] = [(io.BytesIO(gps_jpeg()), "p.jpg")]
    assert client.post(path, data=form, content_type="multipart/form-data").status_code == 302
    photo = db.session.scalar(select(Photo))
    login_as(stranger)
    assert client.get(f"/matches/{match.id}/slip").status_code == 404
    assert client.post(f"/matches/{match.id}/slip", data={}).status_code == 404
    assert client.get(f"/photos/{photo.id}").status_code == 404
    assert f"/photos/{photo.id}" not in text(client.get("/transparency"))
    client.post("/logout")
    assert client.get(f"/photos/{photo.id}").status_code == 302  # to the login page
    login_as(cast.coordinator)
    response = client.get(f"/photos/{photo.id}")
    assert response.status_code == 200 and response.headers["Cache-Control"].startswith("private")


def test_receipt_without_an_account_confirms_18_of_20_once_with_a_clean_photo(
    cast, client, login_as
):
    match = confirmed(cast)
    login_as(cast.donor)
    path = make_slip(client, match)
    client.post("/logout")

    page = text(client.get(path))
    assert "Tourniquets" in page and NOTE not in page and "712345" not in page
    assert "Oksana" not in page and "@" not in page.split("<main")[1]
    raw = gps_jpeg()
    form = receipt_form(
        client, path, condition="less", quantity_received="18", note="Two boxes wet"
    )
    form["photos"] = [(io.BytesIO(raw), "proof.jpg")]
    response = client.post(path, data=form, content_type="multipart/form-data")
    assert response.status_code == 302 and response.location == f"{path}/signed"
    signed = client.get(response.location)
    assert signed.status_code == 200 and "18 received, signed by Petro" in text(signed)
    # The same form again (a phone's outbox sending what it kept) stores nothing more and
    # answers the same, with no error.
    form["photos"] = [(io.BytesIO(raw), "proof.jpg")]
    again = client.post(path, data=form, content_type="multipart/form-data")
    assert again.status_code == 302 and again.location == response.location
    assert "18 received, signed by Petro" in text(client.get(again.location))
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 1
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 1
    # The page it leads to names nothing of the match: only what this browser typed, once.
    reopened = text(client.get(response.location))
    assert "Petro" not in reopened and "Tourniquets" not in reopened
    # Another use of the link (another form, its own token) is refused.
    other = {**form, "idempotency_key": "another-sending", "signer_name": "Ivan"}
    other["photos"] = []
    assert client.post(path, data=other).status_code == 410

    db.session.expire_all()
    match = db.session.get(Match, match.id)
    assert (match.status, match.quantity_received, match.discrepancy) == ("delivered", 18, True)
    receipt = db.session.scalar(select(Receipt))
    assert receipt.signer_name == "Petro" and receipt.condition == "less"
    # The group's members are told at once.
    told = db.session.scalars(
        select(Notification.kind).where(Notification.user_id == cast.organizer.id)
    ).all()
    assert "receipt_signed" in told

    # The photo: re-encoded, no EXIF, no GPS bytes, at most 1600 px.
    photo = db.session.scalar(select(Photo))
    data = db.session.scalar(select(Photo.data))
    assert b"Exif" not in data and b"PhoneMaker" not in data
    for part in (b"\x00\x00\x0b\x8d\x00\x00\x00\x64", b"\x00\x00\x0f\xab\x00\x00\x00\x64"):
        assert part not in data  # 2957/100 and 4011/100 as EXIF rationals
    assert raw.find(b"\x00\x00\x0b\x8d") > 0  # the source had them
    assert max(photo.width, photo.height) == 1600
    reopened = Image.open(io.BytesIO(data))
    assert not reopened.getexif() and "icc_profile" not in reopened.info

    # The link is used: a second use is refused (410), a wrong token is 404.
    used = client.get(path)
    assert used.status_code == 410 and "Tourniquets" not in text(used)
    assert client.post(path, data={"form_key": "x" * 20}).status_code == 410
    wrong = client.get("/r/" + "A" * 43)
    assert wrong.status_code == 404 and "Tourniquets" not in text(wrong)
    assert client.get("/r/short").status_code == 404

    # The group sees the receipt and the photo on the match page.
    login_as(cast.organizer)
    page = text(client.get(f"/matches/{match.id}"))
    assert "Petro" in page and f"/photos/{photo.id}" in page
    assert client.get(f"/photos/{photo.id}").status_code == 200


def test_an_expired_link_and_a_link_of_a_match_that_left_confirmed_are_410(cast, client, login_as):
    match = confirmed(cast)
    login_as(cast.donor)
    path = make_slip(client, match)
    client.post("/logout")
    db.session.execute(update(ReceiptLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert client.get(path).status_code == 410
    db.session.execute(update(ReceiptLink).values(expires_at=utcnow() + timedelta(days=1)))
    db.session.commit()
    assert client.get(path).status_code == 200
    ops.withdraw(db.session.get(Match, match.id), cast.donor, "Truck broke down")
    db.session.commit()
    assert client.get(path).status_code == 410


def test_bad_receipts_keep_what_was_typed(cast, client, login_as):
    match = confirmed(cast)
    login_as(cast.donor)
    path = make_slip(client, match)
    client.post("/logout")
    form = receipt_form(client, path, condition="less", quantity_received="25", note="kept")
    response = client.post(path, data=form)
    assert response.status_code == 422 and "from 0 to 20" in text(response)
    assert "kept" in text(response)
    form = receipt_form(client, path, signer_name=" ")
    assert "Sign with your name." in text(client.post(path, data=form))
    form = receipt_form(client, path)
    form["photos"] = [(io.BytesIO(b"%PDF-1.4 not a photo"), "doc.pdf")]
    response = client.post(path, data=form, content_type="multipart/form-data")
    assert response.status_code == 422 and "not a photo" in text(response)
    form = receipt_form(client, path)
    form["photos"] = [(io.BytesIO(b"\xff\xd8" + b"0" * (8 * 1024 * 1024)), "big.jpg")]
    response = client.post(path, data=form, content_type="multipart/form-data")
    assert response.status_code == 422 and "at most 8 MB" in text(response)
    assert db.session.get(Match, match.id).status == "confirmed"
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_a_decompression_bomb_is_refused(app):
    from aidmatch.photos.images import reencode
    from aidmatch.refusals import Invalid

    image = Image.new("1", (8000, 6000))
    out = io.BytesIO()
    image.save(out, "PNG")
    with pytest.raises(Invalid) as info:
        reencode(out.getvalue())
    assert "too many pixels" in info.value.message


def sign_through_link(client, login_as, cast, match):
    login_as(cast.donor)
    path = make_slip(client, match)
    client.post("/logout")
    response = client.post(path, data=receipt_form(client, path))
    assert response.status_code == 302, text(response)


def test_the_group_disputes_within_72_hours_and_coordinators_are_told(cast, client, login_as):
    match = confirmed(cast)
    sign_through_link(client, login_as, cast, match)
    login_as(cast.organizer)
    page = text(client.get(f"/matches/{match.id}"))
    assert f"/matches/{match.id}/receipt/dispute" in page
    response = client.post(
        f"/matches/{match.id}/receipt/dispute",
        data={"csrf_token": hidden(page, "csrf_token"), "reason": "Only 12 came"},
    )
    assert response.status_code == 302
    receipt = db.session.scalar(select(Receipt))
    db.session.refresh(receipt)
    assert receipt.disputed_at is not None and receipt.dispute_reason == "Only 12 came"
    told = db.session.scalars(
        select(Notification.kind).where(Notification.user_id == cast.coordinator.id)
    ).all()
    assert "receipt_disputed" in told
    # The match goes to the coordinators: their list of disputed receipts and home page.
    client.post("/logout")
    login_as(cast.coordinator)
    listed = text(client.get("/receipts/disputed"))
    assert f"/matches/{match.id}" in listed and "Only 12 came" in listed
    assert "1 receipt was disputed in the last 7 days" in text(client.get("/"))
    client.post("/logout")
    login_as(cast.organizer)
    assert client.get("/receipts/disputed").status_code == 403
    # The donor may not dispute.
    client.post("/logout")
    login_as(cast.donor)
    assert f"/matches/{match.id}/receipt/dispute" not in text(client.get(f"/matches/{match.id}"))


def test_a_dispute_after_72_hours_is_refused(cast, client, login_as):
    match = confirmed(cast)
    sign_through_link(client, login_as, cast, match)
    db.session.execute(update(Receipt).values(signed_at=utcnow() - timedelta(hours=73)))
    db.session.commit()
    login_as(cast.organizer)
    page = text(client.get(f"/matches/{match.id}"))
    assert "/receipt/dispute" not in page
    response = client.post(
        f"/matches/{match.id}/receipt/dispute",
        data={"csrf_token": hidden(page, "csrf_token"), "reason": "late"},
    )
    assert response.status_code == 409 and "within 72 hours" in text(response)
    assert db.session.scalar(select(Receipt.disputed_at)) is None


def test_an_organizer_still_confirms_as_today(cast, client, login_as):
    match = confirmed(cast)
    ops.ship(db.session.get(Match, match.id), cast.donor, "sent")
    db.session.commit()
    login_as(cast.organizer)
    page = text(client.get(f"/matches/{match.id}"))
    response = client.post(
        f"/matches/{match.id}/confirm-delivery",
        data={"csrf_token": hidden(page, "csrf_token"), "quantity_received": "20"},
    )
    assert response.status_code == 302
    assert db.session.get(Match, match.id).status == "delivered"


# --- the API ---------------------------------------------------------------------------------


def test_api_receipt_and_photos_for_the_sides_only(cast, client, login_as, api_client):
    match = confirmed(cast)
    donor = api_client(cast.donor)
    empty = donor.get(f"/matches/{match.id}/receipt")
    assert empty.status_code == 200
    assert empty.get_json()["signed"] is False and empty.get_json()["photos"] == []

    sign_through_link(client, login_as, cast, match)
    group = api_client(cast.organizer)
    body = group.get(f"/matches/{match.id}/receipt").get_json()
    assert body["signed"] and body["signer_name"] == "Petro" and body["quantity_received"] == 20
    assert body["may_dispute"] is True and body["link_used"] is True

    upload = donor.post(
        f"/matches/{match.id}/photos",
        data={"purpose": "damage", "photo": (io.BytesIO(gps_jpeg((800, 600))), "d.jpg")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_json()
    photo = upload.get_json()
    assert photo["purpose"] == "damage" and (photo["width"], photo["height"]) == (800, 600)
    data = db.session.scalar(select(Photo.data).where(Photo.id == photo["id"]))
    assert b"Exif" not in data and b"PhoneMaker" not in data
    listed = group.get(f"/matches/{match.id}/photos").get_json()["items"]
    assert [p["id"] for p in listed] == [photo["id"]]

    bad = donor.post(
        f"/matches/{match.id}/photos",
        data={"photo": (io.BytesIO(b"GIF89a nonsense"), "x.gif")},
        content_type="multipart/form-data",
    )
    assert (
        bad.status_code == 422 and "JPEG" in bad.get_json()["error"]["message"]
    )  # "not a photo: send a JPEG…", in the donor's language

    stranger = api_client(make_user(Role.DONOR, org=make_org(kind=OrgKind.DONOR_COLLECTIVE)))
    assert stranger.get(f"/matches/{match.id}/receipt").status_code == 404
    assert stranger.get(f"/matches/{match.id}/photos").status_code == 404
    refused = stranger.post(
        f"/matches/{match.id}/photos",
        data={"photo": (io.BytesIO(gps_jpeg((80, 60))), "d.jpg")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 1


def test_receipt_posts_are_rate_limited_per_address(app):
    assert app.config["RECEIPT_RATE_LIMIT"] == "10 per minute; 60 per hour"
    guess = "/r/" + "B" * 43

    def post(address: str):
        return app.test_client().post(guess, data={}, environ_base={"REMOTE_ADDR": address})

    for _ in range(10):
        assert post("10.1.1.1").status_code == 404
    limited = post("10.1.1.1")
    assert limited.status_code == 429 and "Too many receipts" in text(limited)
    assert post("10.1.1.2").status_code == 404
