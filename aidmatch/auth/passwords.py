"""Password hashing with Argon2id (argon2-cffi), and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

# argon2-cffi's defaults: Argon2id with RFC 9106's low-memory profile (64 MiB, t=3, p=4).
_STRONG = PasswordHasher()
# Only when the app runs in testing mode (AIDMATCH_ENV=testing): the same algorithm with cheap
# parameters, so a suite that registers and logs in hundreds of users stays fast.
_FAST_FOR_TESTS = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

# Dummy hashes, verified against when the account does not exist, so that response times do
# not tell which emails are registered (one per hasher, made on first use).
_dummy_hashes: dict[int, str] = {}


def _hasher() -> PasswordHasher:
    if has_app_context() and current_app.config.get("TESTING"):
        return _FAST_FOR_TESTS
    return _STRONG


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = id(hasher)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash("aidmatch-timing-equaliser")
    return _dummy_hashes[key]


def hash_password(password: str) -> str:
    """Hash a password with Argon2id and a random salt."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches the hash; spends the same time when there is no hash."""
    hasher = _hasher()
    try:
        return hasher.verify(password_hash or _dummy_hash(hasher), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the current ones."""
    return _hasher().check_needs_rehash(password_hash)


# Passwords people pick first; compared lower-cased, also with trailing digits and marks removed.
_COMMON = """
    password passwort parol pass qwerty qwertyuiop qwertyuiop[] qwertz qwertzuiop asdfghjkl
    azerty 123456789 1234567890 0123456789 12345678910 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx3edc
    zaq12wsx abcdefghij abc123456 iloveyou letmein welcome monkey dragon sunshine princess
    football baseball superman batman trustno1 master shadow freedom whatever starwars
    admin administrator changeme secret default login guest test testtest aidmatch
    ukraine ukraina slavaukraini slava_ukraini heroyamslava kyiv kiev kharkiv lviv odesa
"""
COMMON_PASSWORDS = frozenset(_COMMON.split())
MAX_PASSWORD_LENGTH = 256


def password_problem(password: str, min_length: int, email: str = "") -> str | None:
    """Why this password is too weak (a translatable message), or None when it will do."""
    from flask_babel import lazy_gettext as _l

    if len(password) < min_length:
        return _l("Use at least %(num)d characters.", num=min_length)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _l("Use at most %(num)d characters.", num=MAX_PASSWORD_LENGTH)
    lowered = password.lower()
    stripped = lowered.rstrip("0123456789!?.,_-#*@$ ")
    if lowered in COMMON_PASSWORDS or stripped in COMMON_PASSWORDS:
        return _l("This password is among the most common ones; choose another.")
    if len(set(lowered)) < 4 or password.isdigit():
        return _l("This password is too easy to guess; mix more different characters.")
    email = email.strip().lower()
    if email and (lowered == email or lowered == email.split("@")[0]):
        return _l("Do not use your email address as the password.")
    return None
