"""The signed-in user of a request, from a row held in the process (cache.held).

Every request of a signed-in user (a session cookie: auth/session.py; a bearer token:
auth/tokens.py) loads that user first. For a request that only reads (a GET), the user's
row, and a token's own facts, are held in this process under the data's generation for
USER_SECONDS: the pages and API calls a user makes one after another, with nothing written
between them, read them once, and a kept answer (web/kept.py) then costs no statement at
all. A request that may write reads its user, and its token, from the database. Any
committed write in any process (a logout, a new password, a disabled account, a new role,
organization or language, a token issued or revoked) makes a new generation, so the next
request reads them again; a generation that could not be renewed makes the process let go
of all it holds (cache.bump). Held only in the process's memory, never in the shared cache:
the row has the password hash. Every request gets its own instance, as if loaded from the
row (its relationships are loaded when first used, as they always were).
"""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.orm.util import identity_key

from aidmatch.auth.models import User
from aidmatch.cache import held
from aidmatch.extensions import db
from aidmatch.transaction import SAFE_METHODS

# What a write that the generation missed (cache.bump could not renew it) would leave
# stale: a read for at most this long.
USER_SECONDS = 60
_MANAGER = manager_of_class(User)


def load_user(user_id: int) -> User | None:
    """The user with this id in this request's session (None if there is none); read from
    the database by a request that may write."""
    key = identity_key(User, user_id)
    present = db.session.identity_map.get(key)
    if present is not None:  # this request (or a test's session) has it already
        return present
    if not reading():
        return db.session.get(User, user_id)
    row = held("user", (user_id,), lambda: columns(db.session.get(User, user_id)), USER_SECONDS)
    if row is None:
        return None
    present = db.session.identity_map.get(key)
    if present is not None:  # just loaded (the row was not held)
        return present
    # As the ORM makes a loaded row's instance: its columns' values in its dict, no events
    # (plain values: a JSON column would need a deep copy); then detached, nothing to flush.
    user = _MANAGER.new_instance()
    user.__dict__.update(row)
    make_transient_to_detached(user)
    db.session.add(user)
    return user


def reading() -> bool:
    """Does this request only read (GET, HEAD, OPTIONS)? Only such a request is served from
    a held row: one that may write (a logout, a claim, an admin's decision) is authorised by
    the database itself, whatever a cache that failed to follow a write would say."""
    return has_request_context() and request.method in SAFE_METHODS


def columns(row) -> dict | None:
    """A loaded row's column values (None for no row)."""
    if row is None:
        return None
    return {attr.key: getattr(row, attr.key) for attr in inspect(type(row)).column_attrs}
