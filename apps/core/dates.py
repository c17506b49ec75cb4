"""The range of dates FitnessCRM accepts from anyone, and the API fields that hold input to it.

Python's dates run from year 1 to 9999, but a day at either end cannot be moved into another
time zone or have a day added to it without an OverflowError. Nothing a gym records lies
outside these years, so input outside them is refused where it enters, naming the field,
instead of failing deep inside a query or a calculation.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.utils import html

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)


def _out_of_range() -> str:
    return _("Give a date from %(earliest)s to %(latest)s.") % {
        "earliest": EARLIEST.isoformat(),
        "latest": LATEST.isoformat(),
    }


def _in_range(value: date | datetime) -> bool:
    return EARLIEST <= (value.date() if isinstance(value, datetime) else value) <= LATEST


def validate_date_in_range(value: date | datetime) -> None:
    if not _in_range(value):
        raise ValidationError(_out_of_range(), code="date_out_of_range")


def validate_birth_date(value: date) -> None:
    """A date of birth lies between EARLIEST and today on the gym's clock."""
    # Imported here: core must not import the apps built on it when it loads.
    from apps.tenants.selectors import gym_today

    validate_date_in_range(value)
    if value > gym_today():
        raise ValidationError(_("A date of birth cannot be in the future."), code="future_birth")


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD query parameter inside the range, or None (absent, malformed or outside)."""
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        return None
    return day if _in_range(day) else None


def _sent_empty(field: serializers.Field, dictionary: Any) -> bool:
    return html.is_html_input(dictionary) and dictionary.get(field.field_name) == ""


class DateField(serializers.DateField):
    """A DRF date inside EARLIEST..LATEST. An empty query or form value is refused, naming the
    field, where DRF would read it as "not sent": the schema says a date."""

    default_validators = [validate_date_in_range]

    def get_value(self, dictionary: Any) -> Any:
        return "" if _sent_empty(self, dictionary) else super().get_value(dictionary)


class DateTimeField(serializers.DateTimeField):
    """A DRF date and time inside EARLIEST..LATEST; empty is refused as for DateField."""

    default_validators = [validate_date_in_range]

    def get_value(self, dictionary: Any) -> Any:
        return "" if _sent_empty(self, dictionary) else super().get_value(dictionary)


class ModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose date and time fields from the model are the bounded ones above."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: DateField,
        models.DateTimeField: DateTimeField,
    }
