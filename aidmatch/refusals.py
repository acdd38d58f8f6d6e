"""Domain refusals: why a verb or a query said no, without any HTTP.

Verbs and queries raise these; the edges render them their way (errors.py maps them to status
codes, the JSON error envelope, error pages and form errors; the CLI prints the message).
Messages may be lazy translatable strings: they are rendered when read, in the reader's language.
"""

from __future__ import annotations


class Refusal(Exception):
    """A verb or query refused: a message a person understands, optionally tied to a field."""

    def __init__(
        self, message, field: str | None = None, code: str = "", fields: dict | None = None
    ):
        super().__init__(message)
        self.raw_message = message
        self.field = field
        self.code = code
        self.raw_fields = dict(fields or {})

    @property
    def message(self) -> str:
        """The message, rendered now (a lazy string in the current language)."""
        return str(self.raw_message)

    @property
    def fields(self) -> dict[str, str]:
        """{field: message}: the field it concerns, or the several fields it was given (each
        with its own message), else {}."""
        if self.raw_fields:
            return {name: str(text) for name, text in self.raw_fields.items()}
        return {self.field: self.message} if self.field else {}

    def __str__(self) -> str:
        return self.message


class NotFound(Refusal):
    """There is no such thing, or the viewer may not know that there is."""


class NotAllowed(Refusal):
    """The viewer may see this, but may not do that (wrong role or wrong side)."""


class Conflict(Refusal):
    """What was asked clashes with what exists: a wrong state, a taken name, a lost race."""


class Invalid(Refusal):
    """What was typed is not acceptable (optionally naming the field)."""
