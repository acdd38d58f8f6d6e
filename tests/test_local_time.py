"""Times are shown in the reader's time zone (Europe/Kyiv unless they chose another on
/account; visitors the default), dates as they are; no page says UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.models import User
from aidmatch.config import ConfigError, load_config
from aidmatch.extensions import db
from aidmatch.permissions import Role
from aidmatch.web.i18n import local_date, local_datetime, select_timezone
from tests.factories import make_org, make_user

# 02:43 UTC on a winter day: 04:43 in Kyiv (UTC+2), 21:43 the day before in New York.
MOMENT = datetime(2026, 1, 15, 2, 43, tzinfo=UTC)


@pytest.fixture
def waiting_org(app):
    """An organization waiting for verification, registered at MOMENT (the coordinators'
    queue shows when)."""
    org = make_org("Waiting group", verified=False)
    org.created_at = MOMENT
    db.session.commit()
    return org


def test_times_are_in_kyiv_by_default_and_in_the_chosen_zone(app, client, login_as, waiting_org):
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    login_as(coordinator)
    page = f"/orgs/{waiting_org.id}"  # "Registered ..." (the directory gives the date only)
    text = client.get(page).get_data(as_text=True)
    assert "Jan 15, 2026, 4:43" in text
    assert "2:43" not in text and "UTC" not in text

    coordinator.timezone = "America/New_York"
    db.session.commit()
    text = client.get(page).get_data(as_text=True)
    assert "Jan 14, 2026, 9:43" in text and "4:43" not in text


def test_the_zone_is_chosen_on_the_account_page(app, client, login_as):
    user = make_user(Role.DONOR, display_name="Jonas")
    db.session.commit()
    login_as(user)
    page = client.get("/account").get_data(as_text=True)
    # The default is selected; the common zones come before the whole list.
    assert '<option selected value="Europe/Kyiv">' in page
    assert page.index('value="Europe/Berlin"') < page.index('value="Africa/Abidjan"')
    saved = client.post(
        "/account", data={"display_name": "Jonas", "language": "en", "timezone": "Europe/Berlin"}
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).timezone == "Europe/Berlin"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert event.after["timezone"] == "Europe/Berlin" and event.before["timezone"] is None
    assert '<option selected value="Europe/Berlin">' in client.get("/account").get_data(
        as_text=True
    )

    refused = client.post(
        "/account", data={"display_name": "Jonas W", "language": "en", "timezone": "Mars/Olympus"}
    )
    text = refused.get_data(as_text=True)
    assert "Choose a time zone from the list." in text
    assert 'value="Jonas W"' in text  # what was typed is kept
    db.session.expire_all()
    assert db.session.get(User, user.id).timezone == "Europe/Berlin"
    assert db.session.get(User, user.id).display_name == "Jonas"


def test_visitors_jobs_and_dates(app):
    with app.test_request_context("/"):
        assert select_timezone() == "Europe/Kyiv"  # an anonymous visitor
        with force_locale("en"):
            assert local_datetime(MOMENT) == "Jan 15, 2026, 4:43\u202fAM"
            assert local_datetime(MOMENT, zone=True).endswith("AM GMT+02:00")
            # A date is a date: the same in every zone.
            assert local_date(date(2026, 1, 15)) == "Jan 15, 2026"
    assert select_timezone() == "Europe/Kyiv"  # a job: no request


def test_default_timezone_setting(tmp_path):
    config = load_config(tmp_path, env={"DEFAULT_TIMEZONE": "Europe/Berlin"})
    assert config["BABEL_DEFAULT_TIMEZONE"] == "Europe/Berlin"
    assert load_config(tmp_path, env={})["BABEL_DEFAULT_TIMEZONE"] == "Europe/Kyiv"
    with pytest.raises(ConfigError, match="DEFAULT_TIMEZONE"):
        load_config(tmp_path, env={"DEFAULT_TIMEZONE": "Kyiv"})
