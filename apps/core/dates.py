"""The range of dates FitnessCRM accepts from anyone, and the API fields that hold input to it.

Python's dates run from year 1 to 9999, but a day at either end cannot be moved into another
time zone or have a day added to it without an OverflowError. Nothing a gym records lies
outside these years, so input outside them is refused where it enters, naming the field,
instead of failing deep inside a query or a calculation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)


def _out_of_range() -> str:
    return _("Give a date from %(earliest)s to %(latest)s.") % {
        "earliest": EARLIEST.isoformat(),
        "latest": LATEST.isoformat(),
    }


def validate_date_in_range(value: date | datetime) -> None:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
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
    return day if EARLIEST <= day <= LATEST else None


class DateField(serializers.DateField):
    """A DRF date inside EARLIEST..LATEST."""

    def to_internal_value(self, value: Any) -> date:
        day = super().to_internal_value(value)
        if not EARLIEST <= day <= LATEST:
            raise serializers.ValidationError(_out_of_range(), code="date_out_of_range")
        return day


class DateTimeField(serializers.DateTimeField):
    """A DRF date and time inside EARLIEST..LATEST (as a day in UTC, so either end still has room
    for any time zone's offset)."""

    def to_internal_value(self, value: Any) -> datetime:
        moment = super().to_internal_value(value)
        day = moment.astimezone(UTC).date() if timezone.is_aware(moment) else moment.date()
        if not EARLIEST <= day <= LATEST:
            raise serializers.ValidationError(_out_of_range(), code="date_out_of_range")
        return moment


class ModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose date and time fields from the model are the bounded ones above."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: DateField,
        models.DateTimeField: DateTimeField,
    }
