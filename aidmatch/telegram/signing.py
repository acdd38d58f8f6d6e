"""A button's callback data: ``v1:<verb>:<id>:<signature>``, at most 64 bytes (Telegram's
limit), signed with SECRET_KEY for the one user the message went to. A press counts only from
the chat linked to that user, with the signature made for that user, verb and id: a forged,
altered or forwarded button is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app

VERSION = "v1"
SIGNATURE_CHARS = 16  # 96 bits of the HMAC
MAX_BYTES = 64
# What a button may ask for: the match verbs behind one tap, and the "still needed?" answers.
VERBS = frozenset({"accept", "decline", "approve", "confirm_delivery", "keep_open", "close_need"})


@dataclass(frozen=True)
class Press:
    """What a button asks: a verb on a match or a need (by id)."""

    verb: str
    target_id: int


def _signature(user_id: int, verb: str, target_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    text = f"telegram-button:{user_id}:{verb}:{target_id}".encode()
    digest = hmac.new(key, text, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE_CHARS]


def sign(user_id: int, verb: str, target_id: int) -> str:
    """The callback data of a button for this user."""
    if verb not in VERBS:
        raise ValueError(f"no button verb {verb!r}")
    data = f"{VERSION}:{verb}:{target_id}:{_signature(user_id, verb, target_id)}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data longer than {MAX_BYTES} bytes: {data!r}")
    return data


def read(data, user_id: int) -> Press | None:
    """What the button asks, if its data is well formed, names a known verb and was signed for
    this user; None otherwise."""
    if not isinstance(data, str) or not data.isascii() or len(data) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) != 4 or parts[0] != VERSION or parts[1] not in VERBS:
        return None
    verb, target, signature = parts[1], parts[2], parts[3]
    if not target.isdigit() or len(target) > 18:
        return None
    target_id = int(target)
    if not hmac.compare_digest(signature, _signature(user_id, verb, target_id)):
        return None
    return Press(verb, target_id)
