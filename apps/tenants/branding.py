"""The gym's identity as the pages use it: checking and re-encoding an uploaded logo, the
brand colour's rules, the currencies on offer, and money formatted for the gym and the reader.

A logo is accepted by what it is (Pillow must recognise PNG, JPEG or WebP: never SVG, which can
carry scripts), bounded in bytes and pixels before it is decoded, as progress photos are
(apps/progress/images.py). What is kept is a fresh PNG without metadata, at most LOGO_EDGE
pixels on its long side, plus a square icon (the logo centred on white, inside the safe zone
of a maskable icon) for the favicon and the installed portal.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import IO

from babel.core import Locale, UnknownLocaleError, get_global
from babel.numbers import format_currency, get_currency_name, list_currencies
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_PIXELS = 25_000_000
LOGO_EDGE = 512
ICON_EDGE = 512
# A maskable icon may be cut to a circle of 80 % of its width: the logo stays inside it.
ICON_SAFE_EDGE = 360
HEX_COLOUR = re.compile(r"^#[0-9a-f]{6}$")
# White text sits on the brand colour (buttons, the active menu entry): WCAG AA for text.
MIN_CONTRAST_WITH_WHITE = 4.5


@dataclass(frozen=True)
class ProcessedLogo:
    logo: bytes
    icon: bytes
    width: int
    height: int


def _invalid(message: str) -> ValidationError:
    return ValidationError({"logo": [message]}, code="invalid_image")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def process_logo(upload: IO[bytes], *, size: int | None = None) -> ProcessedLogo:
    """Check `upload` and return the logo and icon to keep, or raise ValidationError naming
    the field "logo" with a message a person can act on."""
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    if size > LOGO_MAX_BYTES:
        raise _invalid(
            _("The logo is too large: at most %(limit)s.")
            % {"limit": filesizeformat(LOGO_MAX_BYTES)}
        )
    if size == 0:
        raise _invalid(_("The file is empty."))
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload, formats=list(ACCEPTED_FORMATS))
            if image.width * image.height > LOGO_MAX_PIXELS:
                raise Image.DecompressionBombError("declared size over the limit")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _invalid(
            _("The picture has too many pixels: at most %(count)s million.")
            % {"count": LOGO_MAX_PIXELS // 1_000_000}
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _invalid(_("Upload a logo: PNG, JPEG or WebP.")) from exc
    upright = ImageOps.exif_transpose(image).convert("RGBA")
    logo = upright.copy()
    logo.thumbnail((LOGO_EDGE, LOGO_EDGE), Image.Resampling.LANCZOS)
    mark = upright.copy()
    mark.thumbnail((ICON_SAFE_EDGE, ICON_SAFE_EDGE), Image.Resampling.LANCZOS)
    icon = Image.new("RGBA", (ICON_EDGE, ICON_EDGE), (255, 255, 255, 255))
    icon.alpha_composite(mark, ((ICON_EDGE - mark.width) // 2, (ICON_EDGE - mark.height) // 2))
    return ProcessedLogo(
        logo=_png(logo), icon=_png(icon.convert("RGB")), width=logo.width, height=logo.height
    )


# --- Colour ------------------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_with_white(colour: str) -> float:
    return 1.05 / (_luminance(colour) + 0.05)


def brand_colour_clean(value: str) -> str:
    """`#RRGGBB` in lower case, dark enough to carry white text; else a ValidationError."""
    colour = (value or "").strip().lower()
    if re.fullmatch(r"#[0-9a-f]{3}", colour):
        colour = "#" + "".join(c * 2 for c in colour[1:])
    if not HEX_COLOUR.fullmatch(colour):
        raise ValidationError(_("Give a colour as #RRGGBB, for example #0b6e4f."))
    if contrast_with_white(colour) < MIN_CONTRAST_WITH_WHITE:
        raise ValidationError(
            _("This colour is too light for white text on buttons: choose a darker shade.")
        )
    return colour


# --- Money -------------------------------------------------------------------------------------


def _locale(language: str | None = None) -> Locale:
    code = (language or get_language() or "en").replace("-", "_")
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


@cache
def _currency_codes() -> frozenset[str]:
    """ISO 4217 codes some territory uses as legal tender today (no historical ones)."""
    current = {
        code
        for currencies in get_global("territory_currencies").values()
        for code, _start, end, tender in currencies
        if end is None and tender
    }
    return frozenset(current & set(list_currencies()))


def currency_is_known(code: str) -> bool:
    return code in _currency_codes()


def currency_choices(language: str | None = None) -> list[tuple[str, str]]:
    """ISO 4217 codes with their names in the reader's language, by name."""
    locale = _locale(language)
    choices = [
        (code, f"{get_currency_name(code, locale=locale)} ({code})") for code in _currency_codes()
    ]
    return sorted(choices, key=lambda choice: choice[1].casefold())


def format_money(amount: Decimal | int | float, currency: str, language: str | None = None) -> str:
    """`amount` in `currency`, written the way the reader's language writes money."""
    return format_currency(amount, currency, locale=_locale(language))


# --- Emails ------------------------------------------------------------------------------------


def email_language(user: object | None = None) -> str:
    """The language to write to someone in: their own choice, else the current gym's, else the
    site's. Emails are written inside `translation.override(email_language(...))`, so neither
    the sender's language (in a request) nor a worker's default decides it."""
    from django.conf import settings
    from django.db import connection

    from apps.tenants.models import Gym

    gym = getattr(connection, "tenant", None)
    return (
        getattr(user, "language", "")
        or (gym.language if isinstance(gym, Gym) else "")
        or settings.LANGUAGE_CODE
    )
