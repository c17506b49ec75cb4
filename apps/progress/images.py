"""Checking and re-encoding an uploaded progress photo.

A file is accepted by what it is, not by its name: Pillow must recognise it as JPEG, PNG, WebP or
HEIC/HEIF. Its size in bytes and in pixels is bounded before it is decoded (a few kilobytes of
PNG can declare a billion pixels: a decompression bomb). What is kept is a fresh JPEG, turned
upright by its EXIF orientation first and then written without any metadata, so a phone's GPS
position and camera serial never reach the storage; plus a small thumbnail.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC from iPhones; optional so a deploy without it still takes JPEG, PNG and WebP.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_FORMATS = {"HEIF"}
except ImportError:  # pragma: no cover - pillow-heif is a dependency
    HEIF_FORMATS = set()

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", *HEIF_FORMATS}
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
# 50 megapixels: more than any phone camera's JPEG or HEIC (48 MP), far less than a bomb.
DEFAULT_MAX_PIXELS = 50_000_000
# Kept photos are at most this many pixels on their long side: plenty to compare progress.
MAX_EDGE = 2560
THUMBNAIL_EDGE = 400
JPEG_QUALITY = 88
THUMBNAIL_QUALITY = 80


def max_bytes() -> int:
    return int(getattr(settings, "PROGRESS_PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_pixels() -> int:
    return int(getattr(settings, "PROGRESS_PHOTO_MAX_PIXELS", DEFAULT_MAX_PIXELS))


@dataclass(frozen=True)
class ProcessedPhoto:
    image: bytes
    thumbnail: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"
    extension: str = "jpg"


def _invalid(message: str) -> ValidationError:
    return ValidationError({"image": [message]}, code="invalid_image")


def _encode(image: Image.Image, *, quality: int) -> bytes:
    buffer = io.BytesIO()
    # No exif=, no comment: the new file carries no metadata from the upload.
    image.save(buffer, format="JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG; transparency (a PNG or WebP with alpha) on white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def process_photo(upload: IO[bytes], *, size: int | None = None) -> ProcessedPhoto:
    """Check `upload` and return the photo and thumbnail to keep, or raise ValidationError
    naming the field "image" with a message a person can act on."""
    limit = max_bytes()
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    if size > limit:
        raise _invalid(
            _("The photo is too large: at most %(limit)s.") % {"limit": filesizeformat(limit)}
        )
    if size == 0:
        raise _invalid(_("The file is empty."))
    upload.seek(0)
    pixel_limit = max_pixels()
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload, formats=sorted(ACCEPTED_FORMATS))
            if image.width * image.height > pixel_limit:
                raise Image.DecompressionBombError("declared size over the limit")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _invalid(
            _("The picture has too many pixels: at most %(count)s million.")
            % {"count": pixel_limit // 1_000_000 or 1}
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        # Not an image Pillow knows in an accepted format, or a truncated/corrupt one.
        raise _invalid(_("Upload a photo: JPEG, PNG, WebP or HEIC.")) from exc
    if image.format not in ACCEPTED_FORMATS:  # pragma: no cover - formats= already limits
        raise _invalid(_("Upload a photo: JPEG, PNG, WebP or HEIC."))

    # Orientation lives in EXIF, which is about to go: apply it to the pixels first.
    upright = ImageOps.exif_transpose(image)
    photo = _flatten(upright)
    photo.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
    thumbnail = photo.copy()
    thumbnail.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        image=_encode(photo, quality=JPEG_QUALITY),
        thumbnail=_encode(thumbnail, quality=THUMBNAIL_QUALITY),
        width=photo.width,
        height=photo.height,
    )
