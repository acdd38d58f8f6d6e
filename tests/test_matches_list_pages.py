"""/matches is paginated like every list: counts, pages, the same pagination links, and a
message for a page argument that is not a page (it used to stop at 200 rows silently)."""

from __future__ import annotations

import re

from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.lists import PER_PAGE
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_place


def match_links(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'<a href="/matches/(\d+)">', html)}


def test_my_matches_come_in_pages(app, client, login_as):
    group = make_org("Paging group", verified=True)
    place = make_place("Storinka")
    donor = make_user(Role.DONOR, org=make_org("Paging donors", kind=OrgKind.DONOR_COLLECTIVE))
    total = PER_PAGE + 5
    made = [
        ops.claim_need(make_need(group, place=place, title=f"Paged need {i}"), donor, 1).id
        for i in range(total)
    ]
    db.session.commit()
    login_as(donor)

    html = client.get("/matches").get_data(as_text=True)
    assert f"{total} matches in progress · Page 1 of 2" in html
    assert match_links(html) == set(made[:PER_PAGE])  # the oldest first
    assert 'href="/matches?page=2"' in html and 'rel="next"' in html

    html = client.get("/matches?page=2").get_data(as_text=True)
    assert match_links(html) == set(made[PER_PAGE:]) and "Page 2 of 2" in html
    assert 'href="/matches?page=1"' in html

    html = client.get("/matches?page=7").get_data(as_text=True)
    assert "There is no page 7 (any more): this is the last page." in html
    assert match_links(html) == set(made[PER_PAGE:])

    html = client.get("/matches?page=abc").get_data(as_text=True)
    assert "A page number is a whole number from 1 to 100000." in html
    assert match_links(html) == set(made[:PER_PAGE])
