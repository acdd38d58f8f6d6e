"""Log in, log out, register, account (stub: filled in by the accounts work)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    return "login"


@bp.post("/logout")
def logout():
    return "logout"


@bp.route("/register", methods=["GET", "POST"])
def register():
    return "register"


@bp.route("/account", methods=["GET", "POST"])
def account():
    return "account"
