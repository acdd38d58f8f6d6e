"""The location-privacy table (issue 11, item 3), checked through HTTP responses only.

tests/privacy_table.py lists the rows (role, relation, object, surface, field, shown|hidden)
from DESIGN.md. tests/privacy_world.py builds the world it describes (factories for groups,
needs and offers; the matches through the API: a matching run, accept, approve, ship,
confirm-delivery); here each viewer loads every surface once, and each row is looked for in
the responses: the planted digits of exact points, delivery notes, contacts and names, exact
distances and scores.

One test per viewer checks all its rows and lists every violation at once. Every row holds:
the six rows where the app had disagreed with DESIGN (the match page's distance and score for
the group of a pending match, other donors' matches listed on a need's page) were fixed by the
one privacy policy (aidmatch/privacy/policy.py).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass

import openpyxl
import pytest

from tests.privacy_table import (
    CANDIDATES_OF_NEED,
    CANDIDATES_OF_OFFER,
    MATCHES,
    NEEDS,
    OFFERS,
    PLEDGES,
    REPORT_OF_STAFF,
    REPORTS,
    ROWS,
    STATUSES,
    VIEWERS,
    VOUCHES,
)
from tests.privacy_world import (
    NEAR,
    NEED_POINTS,
    OFFER_POINTS,
    PAYMENT_TOKENS,
    Session,
    body_of,
    build_world,
    contact_of,
    haversine_km,
    name_of,
    note_of,
    number_in,
    shows_point,
    title_of,
)
from tests.smtp_server import app_on, free_port, mail_settings


@dataclass
class Located:
    """An object on a surface: whether it is there, the text about it (its item or line where
    the surface lists many, else the whole response), the whole response, and its item."""

    present: bool
    text: str
    whole: str
    item: dict | None


def _json_list(response, key_name: str, object_id: int) -> Located:
    body = response.get_json(silent=True) if response.status_code == 200 else None
    items = [i for i in (body or {}).get("items", []) if i.get(key_name) == object_id]
    item = items[0] if items else None
    whole = response.get_data(as_text=True)
    return Located(item is not None, json.dumps(item) if item is not None else "", whole, item)


def _whole(response, present: bool):
    text = response.get_data(as_text=True)
    return Located(present, text, text, None)


def locate(s: Session, kind: str, key: str, surface: str) -> Located:
    """The object on that surface as this viewer gets it."""
    ids, oid, title = s.world.ids, s.world.ids[key], title_of(key)
    if kind == "pledge":
        return locate_money(s, key, surface)
    near = f"status=all&per_page=200&near={s.world.near_id}"
    plural = {"need": "needs", "offer": "offers", "match": "matches", "org": "orgs"}[kind]
    if surface == "api_list" and kind in ("need", "offer"):
        return _json_list(s.api(f"/{plural}?{near}"), "id", oid)
    if surface == "api_list":  # matches
        return _json_list(s.api("/matches?per_page=100"), "id", oid)
    if surface == "api_detail":
        response = s.api(f"/{plural}/{oid}")
        return _whole(response, response.status_code == 200)
    if surface == "html_detail":
        response = s.page(f"/{plural}/{oid}")
        return _whole(response, response.status_code == 200)
    if surface == "html_review":
        response = s.page("/review?per_page=200&sort=closest&source=engine")
        html = response.get_data(as_text=True) if response.status_code == 200 else ""
        start = html.find(f'<tr id="m{oid}"')
        row = html[start:].split("</tr>")[0] if start >= 0 else ""
        return Located(bool(row), row, response.get_data(as_text=True), None)
    if surface == "html_list":
        response = s.page(f"/{plural}?status=all&per_page=100")
        return _whole(response, title in response.get_data(as_text=True))
    if surface == "map_page":
        return _whole(s.page("/map?kind=needs"), False)
    if surface == "map_data":
        # as a browser asks (the kept brotli copy); map_near as a client that does not
        return _json_list(s.packed(f"/map/data.json?kind={plural}&status=all"), "id", oid)
    if surface == "map_near":  # every place of the world lies within 2 000 km of NEAR
        path = f"/map/data.json?kind={plural}&status=all&near={s.world.near_id}&within_km=2000"
        return _json_list(s.page(path), "id", oid)
    if surface == "csv_export":
        response = s.page(f"/{plural}/export.csv?status=all")
        text = response.get_data(as_text=True) if response.status_code == 200 else ""
        lines = [line for line in text.splitlines() if title in line]
        return Located(bool(lines), lines[0] if lines else "", text, None)
    if surface == "xlsx_export":  # each row's cells as one line of text, like the CSV's
        response = s.page(f"/{plural}/export.xlsx?status=all")
        lines = []
        if response.status_code == 200:
            book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
            for row in book.worksheets[0].iter_rows(values_only=True):
                lines.append(",".join("" if v is None else str(v) for v in row))
        text = "\n".join(lines)
        found = [line for line in lines if title in line]
        return Located(bool(found), found[0] if found else "", text, None)
    if surface in ("hxl_export", "deliveries_csv", "deliveries_hxl"):  # rows found by id
        path = {
            "hxl_export": f"/{plural}/export.csv?status=all&hxl=1",
            "deliveries_csv": "/matches/deliveries.csv",
            "deliveries_hxl": "/matches/deliveries.csv?hxl=1",
        }[surface]
        response = s.page(path)
        text = (
            response.get_data(as_text=True).lstrip("\ufeff") if response.status_code == 200 else ""
        )
        lines = [line for line in text.splitlines() if line.startswith(f"{oid},")]
        return Located(bool(lines), lines[0] if lines else "", text, None)
    if surface == "hxl_dataset":
        response = s.page("/transparency/deliveries.hxl.csv")
        return _whole(response, title in response.get_data(as_text=True))
    if surface == "api_offer_candidates":
        path = f"/offers/{ids[CANDIDATES_OF_OFFER]}/candidates?limit=20"
        return _json_list(s.api(path), "need_id", oid)
    if surface == "html_offer_candidates":
        response = s.page(f"/offers/{ids[CANDIDATES_OF_OFFER]}")
        return _whole(response, title in response.get_data(as_text=True))
    if surface == "html_request_form":
        response = s.page(f"/offers/{ids[CANDIDATES_OF_OFFER]}/request")
        return _whole(
            response, response.status_code == 200 and title in response.get_data(as_text=True)
        )
    if surface == "api_request":
        response = s.api_post(f"/offers/{oid}/requests", {})
        return _whole(response, response.status_code in (403, 422))
    if surface == "api_need_candidates":
        path = f"/needs/{ids[CANDIDATES_OF_NEED]}/candidates?limit=20"
        return _json_list(s.api(path), "offer_id", oid)
    if surface == "api_recurrence":
        response = s.api(f"/offers/{oid}/recurrence")
        return _whole(response, response.status_code == 200)
    if surface == "api_legs":
        response = s.api(f"/matches/{oid}/legs")
        return _whole(response, response.status_code == 200)
    if surface == "api_messages":
        response = s.api(f"/matches/{oid}/messages")
        return _whole(response, response.status_code == 200)
    if surface == "html_conversation":
        response = s.page(f"/offers/{oid}/messages?group={ids['G']}")
        return _whole(response, response.status_code == 200)
    if surface == "html_inbox":
        response = s.page("/notifications")
        return _whole(response, title in response.get_data(as_text=True))
    if surface == "api_inbox":
        response = s.api("/notifications?per_page=200")
        return _whole(response, title in response.get_data(as_text=True))
    if surface == "html_home":
        # The lines (<li>) that link to the object: names are looked for there (the page
        # names the viewer's own partners elsewhere); points and notes in the whole page.
        response = s.page("/")
        html = response.get_data(as_text=True)
        link = f'href="/{plural}/{oid}"'
        lines = [
            html[html.rfind("<li", 0, at) : html.find("</li>", at)]
            for at in (m.start() for m in re.finditer(re.escape(link), html))
        ]
        return Located(bool(lines), "\n".join(lines), html, None)
    if surface == "html_org_page":
        owner = NEEDS[key][0] if kind == "need" else OFFERS[key]
        response = s.page(f"/orgs/{ids[owner]}")
        html = response.get_data(as_text=True) if response.status_code == 200 else ""
        return Located(f'href="/{plural}/{oid}"' in html, html, html, None)
    if surface in ("admin_deliveries", "admin_users"):
        response = s.page("/admin/deliveries" if surface == "admin_deliveries" else "/admin/users")
        return _whole(response, title in response.get_data(as_text=True))
    if surface == "html_vouches":
        response = s.page("/orgs/vouches")
        return _whole(response, response.status_code == 200)
    if surface == "api_vouches":
        response = s.api(f"/orgs/{oid}/vouches")
        return _whole(response, response.status_code == 200)
    if surface == "html_directory":
        response = s.page("/orgs")
        return _whole(response, response.status_code == 200)
    if surface == "html_edit":
        response = s.page(f"/orgs/{oid}/edit")
        return _whole(response, response.status_code == 200)
    if surface == "html_slip":
        response = s.page(f"/matches/{oid}/slip")
        return _whole(response, response.status_code == 200)
    if surface == "html_receipt":
        token = s.world.receipt_tokens.get(key)
        if token is None:
            return Located(False, "", "", None)
        response = s.page(f"/r/{token}")
        return _whole(response, response.status_code == 200)
    if surface == "html_receipt_signed":
        token = s.world.receipt_tokens.get(key)
        if token is None:
            return Located(False, "", "", None)
        response = s.page(f"/r/{token}/signed")
        html = response.get_data(as_text=True)
        return _whole(response, f"#{oid}" in html or title in html)
    if surface == "api_receipt":
        response = s.api(f"/matches/{oid}/receipt")
        return _whole(response, response.status_code == 200)
    if surface == "photo":
        response = s.page(f"/photos/{ids['photo_' + key]}")
        text = response.get_data().decode("latin-1")  # the JPEG's bytes, searched as text
        return Located(response.status_code == 200, text, text, None)
    if surface in ("transparency", "ledger"):
        response = s.page("/transparency" if surface == "transparency" else "/transparency/ledger")
        return _whole(response, title in response.get_data(as_text=True))
    if surface in REPORTS:
        response = s.page(report_path(s, surface))
        text = response.get_data(as_text=surface == "html_report")
        if surface == "pdf_report":
            text = pdf_text(text) if response.status_code == 200 else ""
        return Located(title in text, text, text, None)
    raise LookupError(surface)


def report_path(s: Session, surface: str) -> str:
    """The report this viewer opens: its organization's; staff the network's page and
    REPORT_OF_STAFF's PDF; a visitor the network's (the login page)."""
    ids, viewer, pdf = s.world.ids, s.viewer, surface == "pdf_report"
    if viewer.org is not None:
        return f"/reports/org/{ids[viewer.org]}{'.pdf' if pdf else ''}?lang=en"
    if viewer.role in ("coordinator", "admin") and pdf:
        return f"/reports/org/{ids[REPORT_OF_STAFF]}.pdf?lang=en"
    return "/reports/network?lang=en"


def pdf_text(body: bytes) -> str:
    """A PDF's text (pypdf), as the privacy checks search it."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def locate_money(s: Session, key: str, surface: str) -> Located:
    """A money pledge on a surface: the pledge itself, its need's money, the receipt photo of
    what N_confirmed's money bought, the fundraiser (where the pledger's name would list it)."""
    need, pledger, _status = PLEDGES[key]
    pid = s.world.ids[key]
    if surface == "api_pledge":
        response = s.api(f"/money-pledges/{pid}")
        return _whole(response, response.status_code == 200)
    if surface == "api_money":
        response = s.api(f"/needs/{s.world.ids[need]}/money")
        body = response.get_json(silent=True) if response.status_code == 200 else None
        ids = [p["id"] for p in (body or {}).get("pledges", [])]
        return _whole(response, pid in ids)
    if surface == "html_money":
        response = s.page(f"/needs/{s.world.ids[need]}/money")
        return _whole(response, f'id="pledge-{pid}"' in response.get_data(as_text=True))
    if surface == "receipt_photo":
        response = s.page(f"/money/receipts/{s.world.ids['money_receipt']}")
        text = response.get_data().decode("latin-1")
        return Located(response.status_code == 200, text, text, None)
    if surface in ("fundraiser", "api_fundraiser"):
        slug = s.world.fundraiser_slug
        response = (
            s.page(f"/f/{slug}") if surface == "fundraiser" else s.api(f"/fundraisers/{slug}")
        )
        assert response.status_code == 200, (s.viewer.key, surface)
        text = response.get_data(as_text=True)
        return Located(name_of(pledger) in text, text, text, None)
    raise LookupError(surface)


def _rounded(item: dict | None) -> bool:
    """A candidate's distance as a viewer without both exact points gets it."""
    facts = (item or {}).get("explanation", {}).get("facts", {})
    return item["distance_km"] % 5 == 0 and facts.get("distance_rounded") is True


def observe(s: Session, kind: str, key: str, surface: str, name: str) -> bool | None:
    """Whether the field is shown to this viewer on that surface (True) or not (False); None
    for a distance that is neither exact nor rounded."""
    found = locate(s, kind, key, surface)
    # Points and notes are the object's own: found anywhere in the response, they leak it.
    # Contacts, names, distances and scores are checked in the text about the object.
    present, text, item = found.present, found.text, found.item
    if name == "listed":
        return present
    if name == "payment_details":
        return any(token in found.whole for token in PAYMENT_TOKENS)
    if name == "group_name":
        return name_of(NEEDS[PLEDGES[key][0]][0]) in found.whole
    if name == "message_body":
        return body_of(key) in found.whole
    if name == "hub_contact":
        return contact_of("H") in found.whole
    if name == "period_record":  # the periods' table of the page, the API's periods
        return "Left unused" in found.whole or '"periods"' in found.whole
    if name == "voucher_name":
        vouched = NEEDS[key][0] if kind == "need" else key
        return any(name_of(voucher) in found.whole for voucher in VOUCHES[vouched])
    if kind == "org":
        return (contact_of(key) if name == "contact" else name_of(key)) in text
    need, offer, group, donor = key, key, None, None
    if kind == "match":
        need, offer, _status = MATCHES[key]
    if kind in ("need", "match") and need in NEEDS:
        group = NEEDS[need][0]
    if kind in ("offer", "match") and offer in OFFERS:
        donor = OFFERS[offer]
    if name in ("exact_point", "need_exact_point", "offer_exact_point"):
        point = OFFER_POINTS[offer] if name == "offer_exact_point" or kind == "offer" else None
        point = point or NEED_POINTS[need]
        return shows_point(found.whole, *point)
    if name == "delivery_note":
        return note_of(need) in found.whole
    if name == "contact":
        return contact_of(group if kind == "need" else donor) in text
    if name in ("group_contact", "donor_contact"):
        return contact_of(group if name == "group_contact" else donor) in text
    if name == "other_side_name":
        if kind == "match":
            sides = [o for o in (group, donor) if o != s.viewer.org]
        else:
            matched = [m for m in MATCHES.values() if key in m[:2]]
            sides = [OFFERS[matched[0][1]] if kind == "need" else NEEDS[matched[0][0]][0]]
        return any(name_of(o) in text for o in sides)
    if name == "exact_distance" and kind == "match":
        facts = s.world.match_facts[key]
        words = f"{round(float(facts['distance']))} km"
        return number_in(facts["distance"], text) or (
            round(float(facts["distance"])) % 5 != 0 and words in text
        )
    if name == "score_explanation":
        facts = s.world.match_facts[key]
        if surface == "html_detail":
            return "Score:" in text or "Closeness" in text
        if surface == "html_review":  # the score to two decimals, in the "fit" column
            return f"<td>{float(facts['score']):.2f}</td>" in text
        # as numbers of their own: "0.4" inside "10.45" or a coarse point is no score
        return number_in(facts["score"], text) or number_in(facts["closeness"], text)
    if name == "exact_distance" and surface.endswith("candidates"):
        return present and not _rounded(item)
    if name == "exact_distance":  # lists near a place
        if not present:
            return False
        point = NEED_POINTS[key] if kind == "need" else OFFER_POINTS[key]
        exact = round(haversine_km(*NEAR, *point), 1)
        if item["distance_km"] % 5 and item["distance_km"] != exact:
            return None  # neither the exact distance nor one rounded to 5 km
        return item["distance_km"] == exact
    raise LookupError(name)


def violations(s: Session, row_ids) -> list[str]:
    """The rows (of those named) this viewer's responses break, one line each."""
    found = []
    for row_id in row_ids:
        row = ROWS[row_id]
        for viewer, kind, key, surface, name in row.cases:
            if viewer != s.viewer.key:
                continue
            seen = observe(s, kind, key, surface, name)
            if seen != row.expected:
                got = {True: "shown", False: "hidden", None: "neither exact nor rounded"}[seen]
                found.append(f"{row_id} (object {key}): it is {got}")
    return found


VIEWER_BY_KEY = {v.key: v for v in VIEWERS}


@pytest.fixture
def app(database_url):
    """The app, e-mailing to a mail server that is down: the world's notifications fail and
    are listed on the admins' page of failed deliveries (a surface of the table); deliveries
    published at once."""
    # The reports and the transparency page publish at once (no delay), so that their leak
    # checks read the world's delivery.
    settings = {**mail_settings(free_port()), "TRANSPARENCY_DELAY_DAYS": 0}
    with app_on(database_url, **settings) as application:
        yield application


@pytest.mark.parametrize("viewer_key", list(VIEWER_BY_KEY))
def test_privacy_table(viewer_key, app, api_client):
    """Every row of the table for one viewer."""
    world = build_world(app, api_client)
    session = Session(app, api_client, world, VIEWER_BY_KEY[viewer_key])
    mine = [i for i, row in ROWS.items() if any(c[0] == viewer_key for c in row.cases)]
    found = violations(session, mine)
    assert not found, f"{len(found)} of {len(mine)} rows fail for {viewer_key}:\n" + "\n".join(
        found
    )


def test_the_table_covers_every_role_relation_and_surface():
    """The table's shape: every role, relation, object and surface has rows, both ways."""
    parts = [row_id.split("-") for row_id in ROWS]
    assert {p[0] for p in parts} == {"anonymous", "organizer", "donor", "coordinator", "admin"}
    relations = {p[1] for p in parts}
    assert {"owner", "unrelated", "unverified_org", "any", "on_route"} <= relations
    assert {f"other_side_{s}" for s in STATUSES} <= relations
    assert {"need", "sensitive_need", "unverified_group_need", "offer", "match", "org"} <= {
        p[2] for p in parts
    }
    assert {"confirmed_money_pledge", "pending_money_pledge"} <= {p[2] for p in parts}
    assert {p[-1] for p in parts} == {"shown", "hidden"}


def test_the_exact_point_oracle_flags_the_point_and_no_unrelated_number():
    """The oracle finds the exact point however a page may print it (a dot or a comma, four
    to six decimals or more with trailing zeros, rounded or cut, in JSON, a link, a sentence)
    and nothing else: not an id, a token or a count with the same digits, not a coarse point,
    not a number that merely starts like it."""
    lat, lon = NEED_POINTS["N_pending"]  # (49.937261, 36.284517)
    shown = (
        "<td>49.937261</td>", '{"lat": 49.937261, "lon": 36.284517}', "49,937261 N",
        "Lage: 49,93726", "at 49.9373, 36.2845", "36,2845° E", "[36.284517,49.937261]",
        "?near=49.93726%2C36.28452", "49.93726100", "36.28451", "-49.937261",
    )  # fmt: skip
    for page in shown:
        assert shows_point(page, lat, lon), page
    unrelated = (
        "/matches/937261", "token=a937261b", "id 284517", "about 49.95, 36.3 (10 km)",
        "149.937261", "49.937262", "49.93731 km", "49.9374", "36.2846 ", "Seite 49,9",
        "2849.9373",
    )  # fmt: skip
    for page in unrelated:
        assert not shows_point(page, lat, lon), page


def test_the_score_oracle_flags_the_score_and_not_the_same_digits_in_a_time():
    """A score or closeness part is found as a number of its own in a JSON answer, never as
    the same digits inside a longer number: a timestamp whose seconds read "30.127378" holds
    "0.127", which once made a hub on a route 'see' a closeness of 0.127 it was not sent."""
    closeness = "0.127"
    shown = ('{"closeness": 0.127}', '"score": 0.127,', "[0.127]", "fit 0.127 of 1")
    for text in shown:
        assert number_in(closeness, text), text
    unrelated = (
        '"created_at": "2026-12-07T21:45:30.127378+00:00"', '"lat": 50.1271', "10.127",
        '"urgency": 0.1273', "0.1275", '"id": 20.127',
    )  # fmt: skip
    for text in unrelated:
        assert not number_in(closeness, text), text


def test_the_reports_leak_checks_read_a_delivery(app, api_client):
    """The reports the table reads are not empty: the delivered match's collective finds its
    delivery (the category, the group's oblast) on its report's page and PDF."""
    world = build_world(app, api_client)
    session = Session(app, api_client, world, VIEWER_BY_KEY["donor-other_side_delivered"])
    page = session.page(report_path(session, "html_report"))
    assert page.status_code == 200 and "Tourniquets" in page.get_data(as_text=True)
    pdf = session.page(report_path(session, "pdf_report"))
    words = " ".join(pdf_text(pdf.get_data()).split())
    assert "Tourniquets" in words and "Groups served 1" in words
