"""flask telegram: receive the bot's updates by long polling (a server without public HTTPS),
or point Telegram's webhook at this server."""

from __future__ import annotations

import logging
import time

import click
from flask import current_app
from flask.cli import AppGroup

from aidmatch.extensions import db
from aidmatch.telegram import api
from aidmatch.telegram.updates import handle_update

log = logging.getLogger(__name__)

telegram_cli = AppGroup("telegram", help="The Telegram bot: polling and the webhook.")

ALLOWED_UPDATES = ["message", "callback_query"]
PAUSE_AFTER_FAULT = 5.0  # seconds before polling again after a network fault


def _require_bot() -> None:
    if not api.configured():
        raise click.ClickException("Telegram is off: set TELEGRAM_BOT_TOKEN")


def poll_once(offset: int | None, timeout: int) -> tuple[int | None, int]:
    """Fetch the updates after offset (waiting up to timeout seconds for one) and handle each;
    the next offset and how many were handled. A failing update is logged and skipped, so that
    one bad update cannot stop the bot."""
    updates = api.call(
        "get_updates", offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES
    )
    for update in updates:
        data = update.to_dict()
        try:
            handle_update(data)
        except Exception:
            log.exception("Telegram update %s failed", update.update_id)
        offset = update.update_id + 1
    db.session.remove()  # no connection held while waiting for the next updates
    return offset, len(updates)


@telegram_cli.command("poll")
@click.option("--once", is_flag=True, help="Fetch and handle what is waiting, then stop.")
@click.option(
    "--timeout", type=int, default=None, help="Seconds to wait for updates (30; --once: 0)."
)
def poll_command(once: bool, timeout: int | None):
    """Receive updates by long polling (getUpdates) instead of the webhook, until stopped.
    Telegram refuses this while a webhook is set: `flask telegram delete-webhook` first."""
    _require_bot()
    timeout = (0 if once else 30) if timeout is None else timeout
    offset = None
    if once:
        offset, handled = poll_once(offset, timeout)
        if handled:  # getUpdates with a later offset confirms them to Telegram
            api.call("get_updates", offset=offset, timeout=0, limit=1)
        click.echo(f"handled {handled} updates")
        return
    click.echo("aidmatch: polling Telegram for updates (Ctrl+C stops)")
    while True:
        try:
            offset, _handled = poll_once(offset, timeout)
        except api.Flood as exc:
            time.sleep(exc.retry_after)
        except api.Unavailable as exc:
            log.warning("Telegram polling failed, trying again: %s", exc)
            time.sleep(PAUSE_AFTER_FAULT)
        except api.Refused as exc:
            raise click.ClickException(f"Telegram refused polling: {exc}") from None


@telegram_cli.command("set-webhook")
@click.argument("url", required=False)
def set_webhook_command(url: str | None):
    """Tell Telegram to post updates to URL (default: PUBLIC_URL's /telegram/webhook), with
    TELEGRAM_WEBHOOK_SECRET as its secret header (the webhook refuses a call without it)."""
    _require_bot()
    secret = current_app.config.get("TELEGRAM_WEBHOOK_SECRET")
    if not secret:
        raise click.ClickException("set TELEGRAM_WEBHOOK_SECRET first")
    if url is None:
        path = current_app.url_map.bind("localhost").build("telegram.webhook")
        url = current_app.config["PUBLIC_URL"] + path
    try:
        api.call("set_webhook", url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
    except api.ApiError as exc:
        raise click.ClickException(f"Telegram refused the webhook: {exc}") from None
    click.echo(f"Telegram posts updates to {url}")


@telegram_cli.command("delete-webhook")
def delete_webhook_command():
    """Stop Telegram posting to the webhook (before polling)."""
    _require_bot()
    try:
        api.call("delete_webhook")
    except api.ApiError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Telegram's webhook is off: `flask telegram poll` receives the updates")
