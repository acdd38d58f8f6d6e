"""Entry point for `flask run` and `gunicorn app:app`."""

import sys

from aidmatch import create_app
from aidmatch.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    sys.exit(f"aidmatch: configuration error: {exc}")
