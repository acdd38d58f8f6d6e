"""/api/v1/matches/<id>/photos: a match's photos (list, and a multipart upload), for its two
sides and the coordinators (the privacy policy's sees_photos; anyone else: 404). An upload is
re-encoded without metadata, as on the receipt page (photos/images.py)."""

from __future__ import annotations

from functools import wraps

import marshmallow as ma
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aidmatch.matches.rules import get_visible_match
from aidmatch.photos.images import MAX_BYTES
from aidmatch.photos.models import PhotoPurpose
from aidmatch.photos.operations import add_photo, photos_of
from aidmatch.privacy import viewer_for
from aidmatch.refusals import Invalid, NotFound
from aidmatch.web.api import make_blueprint, token_required

blp = make_blueprint(
    "api_photos", __name__, tag="Photos", description="Photos of a match, without metadata"
)


class PhotoOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True, metadata={"description": "the re-encoded JPEG"})
    purpose = ma.fields.String(required=True, metadata={"enum": [p.value for p in PhotoPurpose]})
    width = ma.fields.Integer(required=True)
    height = ma.fields.Integer(required=True)
    created_at = ma.fields.DateTime(required=True)


class PhotoList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PhotoOut), required=True)


class PhotoFormIn(ma.Schema):
    purpose = ma.fields.String(
        load_default=PhotoPurpose.DELIVERY.value,
        validate=ma.validate.OneOf([p.value for p in PhotoPurpose]),
    )


class PhotoFileIn(ma.Schema):
    photo = ma.fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary", "description": "at most 8 MB"},
    )


def photo_to_dict(photo) -> dict:
    """What the API says of a photo (its URL, never its original bytes or metadata)."""
    return {
        "id": photo.id,
        "url": url_for("photos.show", photo_id=photo.id, _external=True),
        "purpose": str(photo.purpose),
        "width": photo.width,
        "height": photo.height,
        "created_at": photo.created_at,
    }


def visible_match(user, match_id):
    """The match if the user may see its photos; NotFound otherwise."""
    match = get_visible_match(user, match_id)
    if not viewer_for(user).sees_photos(match):
        raise NotFound(_("Not found"))
    return match


def room_for_a_photo(view):
    """Let this request's body be as large as a photo (the app's limit is smaller), and check
    who may upload before the body is read."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        request.max_content_length = MAX_BYTES + 64 * 1024
        visible_match(current_user, kwargs.get("match_id"))
        return view(*args, **kwargs)

    return wrapped


@blp.route("/matches/<int:match_id>/photos", methods=["GET"])
@token_required
@blp.response(200, PhotoList)
def list_(match_id):
    """The match's photos, oldest first (its sides and coordinators only)."""
    match = visible_match(current_user, match_id)
    return {"items": [photo_to_dict(p) for p in photos_of(match.id)]}


@blp.route("/matches/<int:match_id>/photos", methods=["POST"])
@token_required
@room_for_a_photo
@blp.arguments(PhotoFormIn, location="form")
@blp.arguments(PhotoFileIn, location="files")
@blp.response(201, PhotoOut)
def upload(form, files, match_id):
    """Add a photo (multipart: photo, purpose delivery or damage): re-encoded as a JPEG of at
    most 1600 px, without EXIF, GPS, ICC or XMP. 422 for a file that is not a photo or is
    larger than 8 MB."""
    user = current_user._get_current_object()
    match = visible_match(user, match_id)
    upload = files["photo"]
    if not hasattr(upload, "read"):
        raise Invalid(_("Send the photo as a file."), "photo")
    photo = add_photo(match, upload.read(), PhotoPurpose(form["purpose"]), user)
    return photo_to_dict(photo), 201
