"""The server's half of a form sent by static/js/offline.js while the phone is online.

offline.js posts a form marked data-offline with fetch() (so that a sending lost on the
network goes into its outbox instead of the browser's error page), with the request header
``X-Aidmatch-Send: 1``. A redirect answered to such a POST (the view took the form) is turned
into ``204 No Content`` with the target in ``X-Aidmatch-Location``: fetch does not follow it,
so the flashed messages stay in the session for the page the script then opens, exactly as
after an ordinary Post/Redirect/Get. Any other answer (a refusal drawn with the form) is
passed on as it is. Only same-origin scripts can send the header or read the answer.
"""

from __future__ import annotations

from flask import Flask, Response, request

SEND_HEADER = "X-Aidmatch-Send"
LOCATION_HEADER = "X-Aidmatch-Location"


def register_foreground_sending(app: Flask) -> None:
    """Answer a redirect to offline.js's own sending with 204 and the target in a header."""

    @app.after_request
    def _redirect_for_the_script(response: Response) -> Response:
        if (
            request.method == "POST"
            and request.headers.get(SEND_HEADER) == "1"
            and response.status_code in (301, 302, 303, 307, 308)
            and response.location
        ):
            answer = Response(status=204)
            answer.headers[LOCATION_HEADER] = response.location
            answer.headers["Cache-Control"] = "no-store"
            for name, value in response.headers.items():
                if name.lower() == "set-cookie":
                    answer.headers.add(name, value)
            return answer
        return response
