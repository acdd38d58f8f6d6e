"""Re-encoding an uploaded image so that no position (or anything else) survives: Pillow
opens it, turns it upright (EXIF orientation), shrinks it to at most MAX_SIDE pixels and saves
a new JPEG from the pixels alone: no EXIF (GPS among it), ICC profile, XMP or comment."""

from __future__ import annotations

import io
import warnings

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from aidmatch.refusals import Invalid

MAX_BYTES = 8 * 1024 * 1024  # what an upload may weigh
MAX_SIDE = 1600  # the longest side kept, in pixels
MAX_PIXELS = 40_000_000  # more is a decompression bomb (Image.MAX_IMAGE_PIXELS for us)
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
CONTENT_TYPE = "image/jpeg"


def reencode(raw: bytes, field: str = "photos") -> tuple[bytes, int, int]:
    """The image as a clean JPEG, with its width and height; Invalid (on field) for anything
    that is not a photo we take: too big, not an image, too many pixels."""
    if len(raw) > MAX_BYTES:
        raise Invalid(_("A photo may be at most 8 MB; this one is larger."), field)
    if not raw:
        raise Invalid(_("This file is empty."), field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Invalid(
            _("This image has too many pixels to be a photo (at most 40 megapixels)."), field
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Invalid(
            _("This file is not a photo: send a JPEG, PNG or WebP image."), field
        ) from None
    image = ImageOps.exif_transpose(image)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    # Only the pixels go on: a new image without the source's info (exif, icc, xmp, comments).
    clean = Image.new("RGB", image.size)
    clean.paste(image.convert("RGB"))
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue(), clean.width, clean.height
