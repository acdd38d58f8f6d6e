"""Verbs on photos: add one to a match (re-encoded first), read the ones a viewer may see."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from aidmatch.audit.operations import record
from aidmatch.extensions import db
from aidmatch.photos.images import CONTENT_TYPE, reencode
from aidmatch.photos.models import Photo, PhotoPurpose
from aidmatch.refusals import Invalid

MAX_PER_MATCH = 12  # a receipt brings at most 3; the sides add some later


def add_photo(match, raw: bytes, purpose: PhotoPurpose, actor=None, signer: str = "") -> Photo:
    """Keep a re-encoded copy of this upload for the match (actor: a user; signer: the name
    a receipt link's signer gave). Flushes and audits; never commits."""
    count = db.session.scalar(select(func.count()).where(Photo.match_id == match.id))
    if count >= MAX_PER_MATCH:
        raise Invalid(_("This match has as many photos as it may have."), "photos")
    data, width, height = reencode(raw)
    user_id = getattr(actor, "id", None) if getattr(actor, "is_authenticated", False) else None
    photo = Photo(
        match_id=match.id,
        purpose=PhotoPurpose(purpose),
        uploaded_by_id=user_id,
        signer_name=None if user_id else (signer or None),
        content_type=CONTENT_TYPE,
        width=width,
        height=height,
        data=data,
    )
    db.session.add(photo)
    db.session.flush()
    record(actor, "photo.add", photo, after={"match_id": match.id, "purpose": purpose})
    return photo


def photos_of(match_id: int) -> list[Photo]:
    """A match's photos, oldest first (their bytes not loaded)."""
    return list(
        db.session.scalars(select(Photo).where(Photo.match_id == match_id).order_by(Photo.id))
    )
