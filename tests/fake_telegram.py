"""A fake Telegram Bot API server for the tests: a real HTTP server on 127.0.0.1 speaking the
Bot API's protocol (POST /bot<token>/<method>, form or JSON parameters, {"ok", "result"} or
{"ok": false, "error_code", "description", "parameters"} answers), so that the app's client
(python-telegram-bot) is tested as it runs against Telegram.

It records every call (method and parameters), answers sendMessage, answerCallbackQuery,
editMessageReplyMarkup, getUpdates, getMe, setWebhook and deleteWebhook, can be told to fail
the next calls of a method (403 blocked, 429 with retry_after, 400 chat not found, 502), and
holds a queue of updates that getUpdates hands out by offset as Telegram does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

TOKEN = "123456:TEST-fake-token"
BOT_USERNAME = "aidmatch_test_bot"
WEBHOOK_SECRET = "hook-secret_42"
HOOK = "/telegram/webhook"
# What Telegram sends with every update to a webhook set with the secret.
HOOK_HEADERS = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
PUBLIC_URL = "https://aidmatch.example.org"


@dataclass
class Call:
    """One request the app made: the method, its parameters (JSON values decoded) and the raw
    body as sent."""

    method: str
    params: dict
    raw: str


class FakeTelegram:
    """The server's state; start() / stop(), or ``running()``."""

    def __init__(self, token: str = TOKEN):
        self.token = token
        self.calls: list[Call] = []
        self.updates: list[dict] = []
        self._failures: dict[str, list[tuple[int, str, dict | None]]] = {}
        self._lock = threading.Lock()
        self._next_update_id = 1000
        self._next_message_id = 1
        self._server: ThreadingHTTPServer | None = None

    # --- what a test tells it ----------------------------------------------------------

    def fail_next(
        self, method: str, status: int, description: str, parameters: dict | None = None
    ) -> None:
        """The next call of method gets this error answer (once per call of fail_next)."""
        with self._lock:
            self._failures.setdefault(method, []).append((status, description, parameters))

    def block(self, method: str = "sendMessage") -> None:
        self.fail_next(method, 403, "Forbidden: bot was blocked by the user")

    def flood(self, retry_after: int, method: str = "sendMessage") -> None:
        self.fail_next(
            method,
            429,
            f"Too Many Requests: retry after {retry_after}",
            {"retry_after": retry_after},
        )

    def chat_not_found(self, method: str = "sendMessage") -> None:
        self.fail_next(method, 400, "Bad Request: chat not found")

    def push_update(self, update: dict) -> dict:
        """Queue an update for getUpdates (its update_id is given here)."""
        with self._lock:
            self._next_update_id += 1
            update = {"update_id": self._next_update_id, **update}
            self.updates.append(update)
        return update

    def new_update_id(self) -> int:
        with self._lock:
            self._next_update_id += 1
            return self._next_update_id

    def calls_of(self, method: str) -> list[dict]:
        with self._lock:
            return [call.params for call in self.calls if call.method == method]

    def everything_sent(self) -> str:
        """Every request's body as sent and as decoded (form values are URL-encoded)."""
        with self._lock:
            return "\n".join(
                f"{call.raw}\n{json.dumps(call.params, ensure_ascii=False)}" for call in self.calls
            )

    # --- the server ---------------------------------------------------------------------

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Telegram's servers
            disable_nagle_algorithm = True  # headers and body go out at once

            def do_POST(self):
                fake._handle(self)

            def do_GET(self):
                fake._handle(self)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll: shutdown() waits for it at the end of every test.
        serve = lambda: self._server.serve_forever(poll_interval=0.02)  # noqa: E731
        threading.Thread(target=serve, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[FakeTelegram]:
        fake = cls()
        fake.start()
        try:
            yield fake
        finally:
            fake.stop()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        prefix = f"/bot{self.token}/"
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode("utf-8", "replace") if length else ""
        if not request.path.startswith(prefix):
            return self._reply(
                request, 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            )
        method = request.path[len(prefix) :]
        params = _decode(raw, request.headers.get("Content-Type") or "")
        with self._lock:
            self.calls.append(Call(method, params, raw))
            failures = self._failures.get(method)
            failure = failures.pop(0) if failures else None
        if failure is not None:
            status, description, parameters = failure
            body = {"ok": False, "error_code": status, "description": description}
            if parameters:
                body["parameters"] = parameters
            return self._reply(request, status, body)
        answer = getattr(self, f"_{method}", None)
        if answer is None:
            return self._reply(
                request,
                404,
                {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
            )
        return self._reply(request, 200, {"ok": True, "result": answer(params)})

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    # --- the methods ----------------------------------------------------------------------

    def _message(self, chat_id, text: str | None = None) -> dict:
        with self._lock:
            self._next_message_id += 1
            message_id = self._next_message_id
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
        }
        if text is not None:
            message["text"] = text
        return message

    def _sendMessage(self, params: dict) -> dict:
        return self._message(params.get("chat_id"), params.get("text"))

    def _answerCallbackQuery(self, params: dict) -> bool:
        return True

    def _editMessageReplyMarkup(self, params: dict) -> dict:
        return self._message(params.get("chat_id"))

    def _getMe(self, params: dict) -> dict:
        return {"id": 123456, "is_bot": True, "first_name": "aidmatch", "username": BOT_USERNAME}

    def _setWebhook(self, params: dict) -> bool:
        return True

    def _deleteWebhook(self, params: dict) -> bool:
        return True

    def _getUpdates(self, params: dict) -> list[dict]:
        """Updates from offset on (those before it are confirmed: dropped), at most limit."""
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        with self._lock:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            return self.updates[:limit]


def _decode(raw: str, content_type: str) -> dict:
    """The parameters as the Bot API reads them: a JSON object, or form fields whose values
    may be JSON (python-telegram-bot sends reply_markup and the like that way)."""
    if not raw:
        return {}
    if "json" in content_type:
        return json.loads(raw)
    params = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def telegram_app(database_url: str, fake: FakeTelegram, **overrides):
    """An app whose bot talks to the fake server, inside an app context (as conftest's app)."""
    from tests.conftest import make_test_app, running

    settings = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_BOT_USERNAME": BOT_USERNAME,
        "TELEGRAM_API_BASE": fake.base,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PUBLIC_URL": PUBLIC_URL,
        **overrides,
    }
    with running(make_test_app(database_url, **settings)) as application:
        yield application


def private_chat(chat_id: int, language: str = "en") -> tuple[dict, dict]:
    """The chat and the sender of a private chat with this id."""
    sender = {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": language}
    return {"id": chat_id, "type": "private"}, sender


def text_update(chat_id: int, text: str, language: str = "en", chat_type: str = "private") -> dict:
    """A message update: someone wrote text to the bot."""
    chat, sender = private_chat(chat_id, language)
    chat["type"] = chat_type
    message = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": chat,
        "from": sender,
        "text": text,
    }
    return {"message": message}


def press_update(chat_id: int, data: str, language: str = "en") -> dict:
    """A callback_query update: someone pressed a button whose callback data is data."""
    chat, sender = private_chat(chat_id, language)
    message = {"message_id": 77, "date": int(time.time()), "chat": chat}
    return {
        "callback_query": {
            "id": f"q{chat_id}-{time.monotonic_ns()}",
            "from": sender,
            "chat_instance": "ci",
            "message": message,
            "data": data,
        }
    }
