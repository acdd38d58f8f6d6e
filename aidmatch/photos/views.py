"""/photos/<id>: a match's photo, to its two sides and the coordinators only (the privacy
policy's sees_photos); anyone else gets 404. Never cached by shared caches."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import undefer

from aidmatch.extensions import db
from aidmatch.matches.models import Match
from aidmatch.permissions import require_login
from aidmatch.photos.models import Photo
from aidmatch.privacy import viewer_for
from aidmatch.refusals import NotFound

bp = Blueprint("photos", __name__)


def visible_photo(user, photo_id: int) -> Photo:
    """The photo if this user may see its match's photos; NotFound otherwise."""
    photo = db.session.scalar(
        select(Photo).where(Photo.id == photo_id).options(undefer(Photo.data))
    )
    match = db.session.get(Match, photo.match_id) if photo is not None else None
    if match is None or not viewer_for(user).sees_photos(match):
        raise NotFound(_("Not found"))
    return photo


@bp.get("/photos/<int:photo_id>")
@require_login
def show(photo_id: int):
    """The photo's re-encoded bytes (no metadata), private to the browser."""
    photo = visible_photo(current_user, photo_id)
    response = Response(photo.data, mimetype=photo.content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
