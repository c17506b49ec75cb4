"""Phone numbers: one rule for every way in (API, staff forms, portal, admin, CSV import).
Numbers are stored in E.164 ("+447700900123"); a number typed without a country code is read
in the region of settings.PHONE_DEFAULT_REGION."""

from __future__ import annotations

import contextlib
import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Fields of the CRM that hold a phone number.
PHONE_FIELDS = ("phone", "emergency_contact_phone")
# Fewer digits than this in a search term is a number fragment nobody searches by.
MIN_SEARCH_DIGITS = 3
_E164 = re.compile(r"^\+[1-9][0-9]{5,14}$")
_SEARCHABLE = re.compile(r"^\+?[0-9 ().\-/]+$")
# Ofcom keeps 07700 900000-900999 for drama and examples: phonenumbers calls them invalid, but
# they are what help texts, demo data and tests use, so they are accepted.
FICTIONAL_PREFIXES = ("+447700900",)


def default_region() -> str:
    return str(getattr(settings, "PHONE_DEFAULT_REGION", "GB") or "GB").upper()


def normalise_phone(raw: str | None, region: str | None = None, *, field: str = "phone") -> str:
    """`raw` in E.164, or "" when empty; a ValidationError naming `field` when it is not a
    number that can be dialled."""
    text = (raw or "").strip()
    if not text:
        return ""
    message = _("Enter a valid phone number, e.g. +44 7700 900123.")
    try:
        number = phonenumbers.parse(text, region or default_region())
    except phonenumbers.NumberParseException as exc:
        raise ValidationError({field: [message]}, code="invalid_phone") from exc
    normalised = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    fictional = normalised.startswith(FICTIONAL_PREFIXES) and len(normalised) == 13
    if not (phonenumbers.is_valid_number(number) or fictional):
        raise ValidationError({field: [message]}, code="invalid_phone")
    return normalised


def normalise_phone_fields(fields: dict[str, object], region: str | None = None) -> None:
    """Normalise, in place, the phone fields among `fields`; every bad one is reported."""
    errors: dict[str, list[str]] = {}
    for name in PHONE_FIELDS:
        value = fields.get(name)
        if isinstance(value, str):
            try:
                fields[name] = normalise_phone(value, region, field=name)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


def phone_key(raw: str | None) -> str:
    """The digits a number is recognised by: of its E.164 form when it parses, else of what was
    typed (numbers stored before validation), so "07700 900123" and "+44 7700 900123" match."""
    if raw and _E164.match(raw):
        return raw[1:]  # stored numbers: no need to parse them again
    try:
        normalised = normalise_phone(raw)
    except ValidationError:
        normalised = raw or ""
    return re.sub(r"\D", "", normalised)


def phone_search_digits(term: str) -> list[str]:
    """The digit strings to look for in stored numbers when someone searches by `term`: what
    they typed, without a leading national 0, and its E.164 digits. Empty when the term is not
    a number."""
    text = (term or "").strip()
    if not _SEARCHABLE.match(text):
        return []
    digits = re.sub(r"\D", "", text)
    if len(digits) < MIN_SEARCH_DIGITS:
        return []
    candidates = {digits, digits.lstrip("0") or digits}
    with contextlib.suppress(ValidationError):
        normalised = normalise_phone(text)
        # E.164 digits for stored numbers; the national number for rows stored before numbers
        # were normalised ("07700 900123").
        candidates.add(normalised.lstrip("+"))
        candidates.add(str(phonenumbers.parse(normalised).national_number))
    return sorted(c for c in candidates if len(c) >= MIN_SEARCH_DIGITS)
