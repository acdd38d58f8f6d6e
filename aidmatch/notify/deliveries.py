"""Deliveries that failed or wait for another attempt, for admins (GET /admin/deliveries):
what the outbox gave up on, and why (its last error), so an operator can fix the mail server
or the bot. Reads only; the outbox retries on its own."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import and_, func, or_, select

from aidmatch.auth.models import User
from aidmatch.extensions import db
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.models import Delivery, DeliveryStatus, Notification
from aidmatch.permissions import Role, require_role

bp = Blueprint("deliveries", __name__)

SHOWN = 200  # the newest; the count says how many there are

# Failed for good, or failed at least once and waiting for the next attempt.
TROUBLED = or_(
    Delivery.status == DeliveryStatus.FAILED,
    and_(Delivery.status == DeliveryStatus.PENDING, Delivery.attempts > 0),
)


def troubled_deliveries(limit: int = SHOWN) -> list:
    """(delivery, kind, recipient's e-mail) of the troubled deliveries, newest first."""
    rows = db.session.execute(
        select(Delivery, Notification.kind, User.email)
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(User, User.id == Notification.user_id)
        .where(TROUBLED)
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    return list(rows)


@bp.get("/admin/deliveries")
@require_role(Role.ADMIN)
def index():
    """Failed and retrying deliveries: channel, kind, recipient, attempts, last error, times."""
    total = db.session.scalar(select(func.count()).select_from(Delivery).where(TROUBLED))
    return render_template(
        "notify/deliveries.html",
        rows=troubled_deliveries(),
        total=total,
        kinds=KINDS,
        failed=DeliveryStatus.FAILED,
    )
