"""Forms of the gym settings pages. They parse input and check what one form can see (an end
after its start); the rules that need the database (overlaps, duplicate names) live in the
services, whose field errors the views put back on these forms."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from apps.core import dates
from apps.scheduling.models import ExceptionKind
from apps.tenants.models import TIME_ZONE_CHOICES

WEEKDAY_CHOICES = [(str(day), name) for day, name in WEEKDAYS.items()]


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(format="%H:%M", attrs={"type": "time"})


def _datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})


class _RangeForm(forms.Form):
    """A form with a start and an end field; the end must come after the start."""

    range_fields: tuple[str, str] = ("start", "end")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start_name, end_name = self.range_fields
        start, end = cleaned.get(start_name), cleaned.get(end_name)
        if start is not None and end is not None and end <= start:
            self.add_error(end_name, _("The end must be after the start."))
        return cleaned


class GymProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=TIME_ZONE_CHOICES,
        help_text=_("Opening hours, classes and availability are read in this time zone."),
    )


class OpeningHoursForm(_RangeForm):
    range_fields = ("opens_at", "closes_at")

    weekday = forms.TypedChoiceField(label=_("Day"), choices=WEEKDAY_CHOICES, coerce=int)
    opens_at = forms.TimeField(label=_("Opens at"), widget=_time_input())
    closes_at = forms.TimeField(label=_("Closes at"), widget=_time_input())


class SpecialDayForm(_RangeForm):
    range_fields = ("opens_at", "closes_at")

    date = forms.DateField(
        validators=[dates.validate_date_in_range],
        label=_("Date"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    opens_at = forms.TimeField(
        label=_("Opens at"),
        required=False,
        widget=_time_input(),
        help_text=_("Leave both times empty when the gym is closed that day."),
    )
    closes_at = forms.TimeField(label=_("Closes at"), required=False, widget=_time_input())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        opens_at, closes_at = cleaned.get("opens_at"), cleaned.get("closes_at")
        if (opens_at is None) != (closes_at is None) and not self.errors:
            missing = "closes_at" if closes_at is None else "opens_at"
            self.add_error(missing, _("Give both times, or neither for a closed day."))
        return cleaned


class LocationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    address = forms.CharField(
        label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RoomForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, initial=1)


class AvailabilityForm(_RangeForm):
    range_fields = ("start_time", "end_time")

    weekday = forms.TypedChoiceField(label=_("Day"), choices=WEEKDAY_CHOICES, coerce=int)
    start_time = forms.TimeField(label=_("From"), widget=_time_input())
    end_time = forms.TimeField(label=_("To"), widget=_time_input())


class AvailabilityExceptionForm(_RangeForm):
    """Start and end are typed on the gym's wall clock, whatever the browser's time zone."""

    range_fields = ("starts_at", "ends_at")

    kind = forms.ChoiceField(label=_("Kind"), choices=ExceptionKind.choices)
    starts_at = forms.DateTimeField(
        validators=[dates.validate_date_in_range], label=_("From"), widget=_datetime_input()
    )
    ends_at = forms.DateTimeField(
        validators=[dates.validate_date_in_range], label=_("To"), widget=_datetime_input()
    )

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def _in_gym_zone(self, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        # The field read the wall time in the active time zone: read it again in the gym's.
        wall = timezone.make_naive(value) if timezone.is_aware(value) else value
        return timezone.make_aware(wall, self.zone)

    def clean_starts_at(self) -> datetime | None:
        return self._in_gym_zone(self.cleaned_data.get("starts_at"))

    def clean_ends_at(self) -> datetime | None:
        return self._in_gym_zone(self.cleaned_data.get("ends_at"))
