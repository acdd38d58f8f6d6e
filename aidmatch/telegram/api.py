"""The Bot API, through python-telegram-bot (TELEGRAM_API_BASE: Telegram, a self-hosted Bot
API server, or the tests' fake one).

The library's calls are coroutines and the app is synchronous (requests, jobs, the CLI): each
thread keeps one Bot, with its HTTP client, on an event loop of its own, and runs every call to
its end on that loop. A fresh Bot and client per call (asyncio.run) would cost some 50 ms of
TLS set-up each; a kept one reuses its connections. Faults come out as the exceptions below, so
that the channel and the bot never handle the library's classes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from datetime import timedelta

from flask import current_app
from telegram import Bot
from telegram import error as tg
from telegram.request import HTTPXRequest

# The library's documented opt-in to its next major version (read when a time period is):
# RetryAfter's wait as a timedelta, without a deprecation warning on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "true")

log = logging.getLogger(__name__)
# httpx logs each request's URL at INFO, python-telegram-bot its base URLs at DEBUG, and a
# Bot API URL holds the bot's token: whatever level the worker or gunicorn logs at, those
# lines are never written.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)
logging.getLogger("telegram").setLevel(logging.INFO)


class ApiError(Exception):
    """The Bot API did not do what was asked."""


class ChatGone(ApiError):
    """The chat cannot be written to any more: the user blocked the bot or deleted the account
    (403), or the chat is unknown (400 chat not found). The link is dropped."""


class Flood(ApiError):
    """429: too many messages; try again after retry_after seconds."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(ApiError):
    """The Bot API could not be reached or failed (network, time-out, 5xx, a refused token):
    the same call may work later."""


class Refused(ApiError):
    """The Bot API refused the call itself (another 400, or 409: a webhook is set while
    polling): sending it again changes nothing."""


# The answers of Telegram that mean the chat is gone (403 is always that).
GONE_400 = ("chat not found", "user not found", "bot was blocked", "user is deactivated")


def configured() -> bool:
    """The bot is on: TELEGRAM_BOT_TOKEN is set."""
    return bool(current_app.config.get("TELEGRAM_BOT_TOKEN"))


class _Held:
    """One thread's Bot and the event loop it runs on."""

    def __init__(self, token: str, base: str):
        self.key = (token, base)
        self.loop = asyncio.new_event_loop()
        self.request = HTTPXRequest(
            connection_pool_size=4,
            connect_timeout=10.0,
            read_timeout=20.0,
            write_timeout=20.0,
            pool_timeout=10.0,
        )
        # One request object for both kinds of call: this thread makes one call at a time.
        self.bot = Bot(
            token, base_url=f"{base}/bot", request=self.request, get_updates_request=self.request
        )

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        try:
            self.run(self.request.shutdown())
        except Exception:  # closing a client whose server is gone: nothing to keep
            log.debug("closing the Telegram client failed", exc_info=True)
        finally:
            self.loop.close()


_local = threading.local()


def _held() -> _Held:
    """This thread's Bot for the app's token and API base (a new one when they changed)."""
    config = current_app.config
    key = (config["TELEGRAM_BOT_TOKEN"], config["TELEGRAM_API_BASE"])
    held = getattr(_local, "held", None)
    if held is not None and held.key == key:
        return held
    if held is not None:
        held.close()
    if not key[0]:
        raise Unavailable("Telegram is off: TELEGRAM_BOT_TOKEN is not set")
    _local.held = _Held(*key)
    return _local.held


def _seconds(exc: tg.RetryAfter) -> float:
    """RetryAfter's wait in seconds (a timedelta; an int where PTB_TIMEDELTA is off)."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def call(name: str, **params):
    """Call the Bot's method `name` (send_message, answer_callback_query, ...) with params;
    its result, or one of the exceptions above."""
    held = _held()
    try:
        return held.run(getattr(held.bot, name)(**params))
    except tg.RetryAfter as exc:
        raise Flood(str(exc), _seconds(exc)) from exc
    except tg.Forbidden as exc:
        raise ChatGone(str(exc)) from exc
    except tg.BadRequest as exc:  # before NetworkError: it is one in the library
        if any(words in str(exc).lower() for words in GONE_400):
            raise ChatGone(str(exc)) from exc
        raise Refused(str(exc)) from exc
    except (tg.Conflict, tg.ChatMigrated) as exc:
        raise Refused(str(exc)) from exc
    except tg.TelegramError as exc:  # NetworkError, TimedOut, 5xx, InvalidToken
        raise Unavailable(f"{type(exc).__name__}: {exc}") from exc


def call_quietly(name: str, **params) -> bool:
    """Call a method whose failure changes nothing for us (answering a button press, editing
    a keyboard away): log a failure and go on. True if it worked."""
    try:
        call(name, **params)
    except ApiError as exc:
        log.warning("Telegram %s failed: %s", name, exc)
        return False
    return True
