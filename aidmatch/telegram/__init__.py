"""Telegram: the channel that sends notifications to a linked chat (with buttons that run the
same verbs as the pages), linking a chat from /account, and the bot's updates by webhook or
long polling. Off without TELEGRAM_BOT_TOKEN.

api.py       the Bot API through python-telegram-bot, its faults as our own exceptions
signing.py   callback data: signed, bound to the linked user, at most 64 bytes
keyboard.py  the buttons a message carries for its recipient now
channel.py   the TELEGRAM sender of the outbox (notify/outbox.py)
linking.py   one-time codes, linking and unlinking a chat
presses.py   what a button press does: the match and need verbs
updates.py   one update, from the webhook or from polling: /start, /stop, a button press
views.py     the webhook, and linking on /account
cli.py       flask telegram poll / set-webhook / delete-webhook
"""
