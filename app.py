"""Entry point for `flask run` and `gunicorn app:app`."""

from aidmatch import create_app

app = create_app()
