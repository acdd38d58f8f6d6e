"""Password hashing with Argon2id (argon2-cffi), and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# A dummy hash, verified against when the account does not exist, so that response times do
# not tell which emails are registered.
_DUMMY_HASH = _hasher.hash("aidmatch-timing-equaliser")


def hash_password(password: str) -> str:
    """Hash a password with Argon2id and a random salt."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches the hash; spends the same time when there is no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with older parameters than the current ones."""
    return _hasher.check_needs_rehash(password_hash)
