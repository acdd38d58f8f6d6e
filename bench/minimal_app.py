"""The floor bench/load.py compares aidmatch's pages with: a tiny Flask app whose one page
renders 20 of 1 000 rows read through the SQLAlchemy ORM (Flask-SQLAlchemy, as aidmatch)
with a Jinja template, served by the same gunicorn settings on the same kind of database.

    MINIMAL_DATABASE_URL=sqlite:////tmp/x.sqlite3 gunicorn 'bench.minimal_app:create_app()'

`fill(url)` makes its table and rows (bench/load.py calls it).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, render_template, request
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy import String, create_engine, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROWS = 1000
PER_PAGE = 20
TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Items</title></head>
<body><main><h1>Items, page {{ page }}</h1>
<table>{% for item in items %}
<tr><td>{{ item.id }}</td><td>{{ item.title }}</td><td>{{ item.quantity }}</td>
<td>{{ item.created_at.strftime("%Y-%m-%d") }}</td></tr>{% endfor %}
</table></main></body></html>
"""


class Base(DeclarativeBase):
    """The minimal app's declarative base."""


db = SQLAlchemy(model_class=Base)


class Item(db.Model):
    """A row of the page: a title, a quantity, a date."""

    __tablename__ = "minimal_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    created_at: Mapped[datetime]


def create_app() -> Flask:
    """The app on MINIMAL_DATABASE_URL; GET / renders a page of 20 items (?page=N)."""
    app = Flask(__name__)
    url = os.environ["MINIMAL_DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.jinja_loader = DictLoader({"items.html": TEMPLATE})
    db.init_app(app)

    @app.get("/")
    def index():
        page = request.args.get("page", 1, type=int) % (ROWS // PER_PAGE)
        items = db.session.scalars(
            select(Item).order_by(Item.id).offset(page * PER_PAGE).limit(PER_PAGE)
        ).all()
        return render_template("items.html", items=items, page=page)

    return app


def fill(url: str) -> None:
    """Create the items table at `url` and put ROWS rows in it."""
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            insert(Item),
            [
                {"title": f"Item {i}", "quantity": i % 97 + 1, "created_at": now}
                for i in range(ROWS)
            ],
        )
    engine.dispose()
