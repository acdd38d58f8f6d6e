"""Benchmark: a matching run that proposes 10 000 matches across 500 donor organizations, and
the job queue delivering what it tells them.

Fills a fresh database with 500 donor organizations (one member each, with an e-mail address
and a linked Telegram chat, and one offer of 22) and 11 000 needs of one each in the same
category, posted by 50 groups (one member each, reachable alike), runs the matching engine (`run_matching`, as the coordinators' button does), counts
the notifications and deliveries the run wrote per organization and channel (the goal: at most
one per organization per channel), then starts a real worker (`flask jobs worker`, as
`./scripts/demo` does) and times it until every delivery reached the SMTP server (aiosmtpd)
and the fake Telegram Bot API server running in this process.

    .venv/bin/python bench/notify.py [--orgs 500] [--needs 11000]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from aidmatch.categories.models import Category  # noqa: E402
from aidmatch.extensions import db  # noqa: E402
from aidmatch.geo import coarse_point  # noqa: E402
from aidmatch.needs.models import URGENCY_RANK, Need, Urgency  # noqa: E402
from aidmatch.notify.models import Delivery, DeliveryStatus, Notification  # noqa: E402
from aidmatch.offers.models import Offer  # noqa: E402
from aidmatch.orgs.models import OrgKind  # noqa: E402
from aidmatch.permissions import Role  # noqa: E402
from aidmatch.places.models import Place  # noqa: E402
from aidmatch.runs.job import run_matching  # noqa: E402
from tests.conftest import make_test_app, scratch_database, upgrade_and_load  # noqa: E402
from tests.factories import make_org, make_user  # noqa: E402
from tests.fake_telegram import BOT_USERNAME, FakeTelegram  # noqa: E402
from tests.smtp_server import SmtpServer  # noqa: E402
from tests.worker_process import Worker  # noqa: E402


def fill(n_orgs: int, n_needs: int) -> tuple[object, Category]:
    """Donor organizations (a member and an offer each), front groups and their needs."""
    places = db.session.execute(
        select(Place.id, Place.lat, Place.lon).where(Place.country == "UA").limit(400)
    ).all()
    category = db.session.scalars(
        select(Category).where(Category.parent_id.is_not(None)).order_by(Category.id)
    ).first()
    now = datetime.now(UTC)
    coordinator = make_user(Role.COORDINATOR, email="coordinator@bench.example.org")
    offers = []
    for i in range(n_orgs):
        org = make_org(f"Bench donor {i}", kind=OrgKind.DONOR_COLLECTIVE)
        make_user(Role.DONOR, org=org, email=f"donor{i}@bench.example.org",
                  telegram_chat_id=500_000 + i)  # fmt: skip
        pid, lat, lon = places[i % len(places)]
        plat, plon, _ = coarse_point(lat, lon)
        offers.append(dict(
            title=f"Offer {i}", description="", search_text=f"offer {i}", category_id=category.id,
            place_id=pid, lat=lat, lon=lon, public_lat=plat, public_lon=plon, status="open",
            created_at=now, updated_at=now, organization_id=org.id,
            quantity=max(1, n_needs // n_orgs), allocated=0, delivery_radius_km=None,
        ))  # fmt: skip
    fronts = [make_org(f"Bench front {i}") for i in range(50)]
    for i, front in enumerate(fronts):
        make_user(Role.ORGANIZER, org=front, email=f"organizer{i}@bench.example.org",
                  telegram_chat_id=600_000 + i)  # fmt: skip
    needs = []
    for i in range(n_needs):
        pid, lat, lon = places[(i * 7) % len(places)]
        plat, plon, _ = coarse_point(lat, lon)
        needs.append(dict(
            title=f"Need {i}", description="", search_text=f"need {i}", category_id=category.id,
            place_id=pid, lat=lat, lon=lon, public_lat=plat, public_lon=plon, status="open",
            created_at=now, updated_at=now, organization_id=fronts[i % len(fronts)].id,
            quantity=1, pledged=0, delivered=0, urgency=Urgency.HIGH.value,
            urgency_rank=URGENCY_RANK[Urgency.HIGH], needed_by=None, delivery_note="",
            sensitive=False,
        ))  # fmt: skip
    db.session.execute(insert(Offer), offers)
    for start in range(0, len(needs), 5000):
        db.session.execute(insert(Need), needs[start : start + 5000])
    db.session.commit()
    return coordinator, category


def counts() -> dict:
    """Deliveries by status (read in a transaction ended at once)."""
    rows = db.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    db.session.rollback()
    return {DeliveryStatus(status).value: n for status, n in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=500)
    parser.add_argument("--needs", type=int, default=11_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis", default="", help="put the queue on this Redis")
    args = parser.parse_args()

    smtp = SmtpServer()
    smtp.controller.start()
    fake = FakeTelegram()
    fake.start()
    with tempfile.TemporaryDirectory() as tmp, scratch_database(args.database_url) as url:
        queue = (
            {"JOBS_BACKEND": "redis", "REDIS_URL": args.redis, "JOBS_NAME": "aidmatch-bench"}
            if args.redis
            else {"JOBS_BACKEND": "sqlite", "JOBS_SQLITE_PATH": f"{tmp}/jobs.sqlite3"}
        )
        settings = {
            **queue,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_BOT_USERNAME": BOT_USERNAME,
            "TELEGRAM_API_BASE": fake.base,
            "PUBLIC_URL": "https://aidmatch.example.org",
        }
        upgrade_and_load(url)
        app = make_test_app(url, **settings)
        with app.app_context():
            if args.redis:
                app.extensions["huey"].storage.flush_all()
            t0 = time.perf_counter()
            coordinator, category = fill(args.orgs, args.needs)
            fill_s = time.perf_counter() - t0

            t0 = time.perf_counter()
            run = run_matching(coordinator, category_slug=category.slug)
            run_s = time.perf_counter() - t0
            proposals, run_status = run.proposals, run.status

            told = db.session.execute(
                select(Notification.kind, func.count()).group_by(Notification.kind)
            ).all()
            per_org_channel = Counter(
                db.session.execute(
                    select(Notification.user_id, Delivery.channel)
                    .join(Delivery, Delivery.notification_id == Notification.id)
                    .where(Notification.kind.in_(["run_proposals", "run_proposals_group"]))
                ).all()
            )
            most = max(per_org_channel.values(), default=0)
            total = sum(counts().values())

            worker = Worker(app, Path(tmp), **settings)
            t0 = time.perf_counter()
            worker.start()
            pause = threading.Event()
            try:
                while counts().get("sent", 0) + counts().get("failed", 0) < total:
                    assert worker.process.poll() is None, worker.output()
                    if time.perf_counter() - t0 > 600:
                        raise SystemExit(f"not delivered in 10 min: {counts()}")
                    pause.wait(0.05)
                deliver_s = time.perf_counter() - t0
            finally:
                worker.stop()
            final = counts()
        backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    smtp.controller.stop()
    fake.stop()

    print(f"database {backend}, queue {queue['JOBS_BACKEND']}; {args.orgs} donor organizations, "
          f"{args.needs} needs")  # fmt: skip
    print(f"fill {fill_s:.1f} s; matching run {run_s:.1f} s, status {run_status}, "
          f"proposals {proposals}")  # fmt: skip
    print("notifications by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(told)))
    print(f"run summaries: {len(per_org_channel)} (user, channel) pairs, at most {most} each")
    print(f"deliveries: {total}; e-mails received {len(smtp.received)}, Telegram messages "
          f"{len(fake.calls_of('sendMessage'))}; final {final}")  # fmt: skip
    print(f"delivered by the worker in {deliver_s:.1f} s (from its start, which takes about "
          f"a second, to the last delivery recorded)")  # fmt: skip
    print("reproduce: .venv/bin/python " + " ".join(sys.argv))


if __name__ == "__main__":
    main()
