"""The old name of a verb's refusal: DomainError(message, field=None, status=422, code="").

Only aidmatch/postings/queries.py still raises it (DomainError(..., status=404)); delete this
module when that line raises refusals.NotFound. The status picks the refusal class of
refusals.py (404 NotFound, 403 NotAllowed, 409 Conflict, else Invalid), so `except NotFound`
catches DomainError(..., status=404). New code raises the refusals directly.
"""

from __future__ import annotations

from aidmatch.refusals import Conflict, Invalid, NotAllowed, NotFound, Refusal


class DomainError(Refusal):
    """An operation was refused (the old constructor; see the module doc)."""

    def __new__(cls, message=None, field: str | None = None, status: int = 422, code: str = ""):
        if cls is DomainError:
            cls = _BY_STATUS.get(status, _Invalid)
        return super().__new__(cls)

    def __init__(self, message, field: str | None = None, status: int = 422, code: str = ""):
        super().__init__(message, field=field, code=code)
        self.status = status


class _NotFound(DomainError, NotFound):
    pass


class _NotAllowed(DomainError, NotAllowed):
    pass


class _Conflict(DomainError, Conflict):
    pass


class _Invalid(DomainError, Invalid):
    pass


_BY_STATUS = {404: _NotFound, 403: _NotAllowed, 409: _Conflict, 422: _Invalid}
