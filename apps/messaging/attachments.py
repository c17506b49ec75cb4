"""Checking an attachment: a picture or a PDF, by what the file is, not by its name.

Pictures go through exactly the checks progress photos have (apps.progress.images: Pillow must
recognise JPEG, PNG, WebP or HEIC, size and pixels bounded before decoding, re-encoded upright
with no EXIF, plus a thumbnail). A PDF must start with the PDF header and end with its
end-of-file marker; it is kept as sent and only ever served as a download (see
apps.messaging.views.attachment_response), never shown inline where its scripts could run.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from apps.progress.images import process_photo

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
PDF_HEADER = re.compile(rb"^%PDF-[12]\.\d")
# The end-of-file marker sits in the last kilobyte (after it, at most a little whitespace).
PDF_TAIL_BYTES = 1024


def max_bytes() -> int:
    return int(getattr(settings, "MESSAGE_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass(frozen=True)
class CheckedAttachment:
    content: bytes
    thumbnail: bytes
    content_type: str
    extension: str
    filename: str


def _invalid(message: str) -> ValidationError:
    return ValidationError({"attachment": [message]}, code="invalid_attachment")


def _display_name(name: str, extension: str) -> str:
    """A name to show and download as: the upload's own, without any path or odd character."""
    base = os.path.basename(name or "").rsplit(".", 1)[0]
    base = re.sub(r"[^\w\- ]+", "", base, flags=re.UNICODE).strip()[:80] or "attachment"
    return f"{base}.{extension}"


def _size(upload: IO[bytes], size: int | None) -> int:
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    upload.seek(0)
    return size


def check_attachment(
    upload: IO[bytes], *, name: str = "", size: int | None = None
) -> CheckedAttachment:
    """What to keep of `upload`, or ValidationError naming the field "attachment"."""
    size = _size(upload, size)
    limit = max_bytes()
    if size > limit:
        raise _invalid(
            _("The file is too large: at most %(limit)s.") % {"limit": filesizeformat(limit)}
        )
    if size == 0:
        raise _invalid(_("The file is empty."))
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        content = upload.read()
        if not PDF_HEADER.match(content) or b"%%EOF" not in content[-PDF_TAIL_BYTES:]:
            raise _invalid(_("This PDF is damaged or incomplete."))
        return CheckedAttachment(
            content=content,
            thumbnail=b"",
            content_type="application/pdf",
            extension="pdf",
            filename=_display_name(name, "pdf"),
        )
    try:
        photo = process_photo(upload, size=size)
    except ValidationError as exc:
        messages = exc.message_dict.get("image", exc.messages)
        # The photo check's "upload a photo" becomes what this field accepts.
        if messages == [_("Upload a photo: JPEG, PNG, WebP or HEIC.")]:
            messages = [_("Attach a picture (JPEG, PNG, WebP or HEIC) or a PDF.")]
        raise ValidationError({"attachment": messages}, code="invalid_attachment") from exc
    return CheckedAttachment(
        content=photo.image,
        thumbnail=photo.thumbnail,
        content_type=photo.content_type,
        extension=photo.extension,
        filename=_display_name(name, photo.extension),
    )
