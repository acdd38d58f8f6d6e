"""A receipt signed through its link is stored once, whatever repeats it: the phone's outbox
sending again what it kept, several tabs or a double tap at the same moment (threads released
together, each request in its own context, on SQLite or PostgreSQL). The same one-time token
leads every one of them to where the first led; another token is refused."""

from __future__ import annotations

from sqlalchemy import func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match
from aidmatch.photos.models import Photo
from aidmatch.receipts.models import Receipt
from aidmatch.receipts.operations import link_token, make_link
from tests.match_helpers import assert_invariant, make_cast
from tests.test_matches_concurrency import run_together

SENDERS = 8


def test_the_same_receipt_sent_at_once_is_stored_once(conc_app):
    with conc_app.app_context():
        cast = make_cast()
        match = ops.claim_need(cast.need, cast.donor, 20, offer=cast.offer)
        ops.approve(match, cast.coordinator)
        token = link_token(make_link(match, cast.donor))
        match_id = match.id
        db.session.commit()
    path = f"/r/{token}"
    form = {
        "idempotency_key": "kept-on-the-phone",
        "condition": "less",
        "quantity_received": "18",
        "signer_name": "Petro",
    }

    def send(address: str, data: dict):
        client = conc_app.test_client()
        response = client.post(path, data=data, environ_base={"REMOTE_ADDR": address})
        return response.status_code, response.location

    answers = run_together(
        [lambda i=i: send(f"10.9.0.{i}", form) for i in range(SENDERS)]  # several networks
    )
    assert answers == [(302, f"{path}/signed")] * SENDERS
    # Another sending, with a token of its own: the link is used.
    assert send("10.9.1.1", {**form, "idempotency_key": "another"})[0] == 410

    with conc_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Receipt)) == 1
        assert db.session.scalar(select(func.count()).select_from(Photo)) == 0
        signed = select(func.count()).where(AuditEvent.action == "match.confirm_by_receipt")
        assert db.session.scalar(signed) == 1
        done = db.session.get(Match, match_id)
        assert (done.status, done.quantity_received) == ("delivered", 18)
        assert_invariant()
        db.session.remove()
