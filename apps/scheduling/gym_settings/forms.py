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


class GymIdentityForm(forms.Form):
    """The gym's identity in one form: the logo is checked by the service (what the file is,
    its size), the colour's contrast too; the form only parses."""

    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text=_("PNG, JPEG or WebP, at most 2 MB. A square or wide logo works best."),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    brand_colour = forms.CharField(
        label=_("Brand colour"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("Buttons, links and the menu use it; white text must stay readable on it."),
    )
    address = forms.CharField(
        label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    contact_email = forms.EmailField(label=_("Contact email"), required=False)
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email_sender = forms.EmailField(
        label=_("Send emails from"),
        required=False,
        help_text=_(
            "The address the gym's emails come from once the platform has verified its domain; "
            "until then replies to our emails go to it."
        ),
    )
    currency = forms.ChoiceField(
        label=_("Currency"), help_text=_("Prices and rates are shown in this currency.")
    )
    unit_system = forms.ChoiceField(
        label=_("Default units"),
        help_text=_("For people who have not chosen their own."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        help_text=_("For people who have not chosen their own, and for the gym's emails."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from django.conf import settings

        from apps.tenants.branding import currency_choices
        from apps.tenants.models import GymUnitSystem

        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = currency_choices()
        self.fields["unit_system"].choices = GymUnitSystem.choices
        self.fields["language"].choices = settings.LANGUAGES


class DayHoursForm(forms.Form):
    """One weekday of the week form: open or closed, one range, and an optional second one
    (a lunch break)."""

    is_open = forms.BooleanField(label=_("Open"), required=False)
    opens_at = forms.TimeField(label=_("Opens at"), required=False, widget=_time_input())
    closes_at = forms.TimeField(label=_("Closes at"), required=False, widget=_time_input())
    opens_at_2 = forms.TimeField(label=_("Opens again at"), required=False, widget=_time_input())
    closes_at_2 = forms.TimeField(label=_("Closes at"), required=False, widget=_time_input())

    def __init__(self, *args: Any, weekday: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.weekday = weekday
        self.day_name = WEEKDAYS[weekday]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("is_open") or self.errors:
            return cleaned
        for start_name, end_name, required in (
            ("opens_at", "closes_at", True),
            ("opens_at_2", "closes_at_2", False),
        ):
            start, end = cleaned.get(start_name), cleaned.get(end_name)
            if start is None and end is None and not required:
                continue
            if start is None or end is None:
                missing = start_name if start is None else end_name
                self.add_error(missing, _("Give both times."))
            elif end <= start:
                self.add_error(end_name, _("Closing time must be after opening time."))
        return cleaned

    def ranges(self) -> list[tuple[Any, Any]]:
        data = self.cleaned_data
        if not data.get("is_open"):
            return []
        pairs = [(data["opens_at"], data["closes_at"])]
        if data.get("opens_at_2") and data.get("closes_at_2"):
            pairs.append((data["opens_at_2"], data["closes_at_2"]))
        return pairs


class WeekHoursForm:
    """The whole week in one form: seven DayHoursForms under the prefixes `day-0`..`day-6`,
    saved together (apps.tenants.services.opening_hours_week_save)."""

    def __init__(self, data: Any = None, *, week: list[Any] | None = None) -> None:
        self.days = []
        for weekday in range(7):
            ranges = list(week[weekday].ranges) if week else []
            initial: dict[str, Any] = {"is_open": bool(ranges)}
            if ranges:
                initial.update(opens_at=ranges[0].opens_at, closes_at=ranges[0].closes_at)
            if len(ranges) > 1:
                initial.update(opens_at_2=ranges[1].opens_at, closes_at_2=ranges[1].closes_at)
            self.days.append(
                DayHoursForm(data, weekday=weekday, prefix=f"day-{weekday}", initial=initial)
            )

    def __iter__(self) -> Any:
        return iter(self.days)

    def is_valid(self) -> bool:
        # Every day is checked, so each shows its own errors at once.
        results = [day.is_valid() for day in self.days]
        return all(results)

    def week(self) -> dict[int, list[tuple[Any, Any]]]:
        return {day.weekday: day.ranges() for day in self.days}

    def add_service_errors(self, exc: Any) -> list[str]:
        """Put the service's `hours-<day>` errors on that day; return the others."""
        other: list[str] = []
        for field, messages in getattr(exc, "message_dict", {"": exc.messages}).items():
            if field.startswith("hours-") and field[6:].isdigit():
                for message in messages:
                    self.days[int(field[6:])].add_error(None, message)
            else:
                other.extend(messages)
        return other
