"""Forms of the staff calendar. Dates and times are local to the gym; `local_instant` turns
them into aware datetimes in the gym's zone."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from apps.core import dates
from apps.core.forms import add_service_errors
from apps.crm.models import Client, Trainer
from apps.scheduling.models import Room

MAX_DURATION_MINUTES = 8 * 60


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The aware instant of a wall-clock time on a day in `zone` (DST aware)."""
    return datetime.combine(day, at, tzinfo=zone)


class MoveForm(forms.Form):
    """Where to move an appointment: a local day and start time. Its length stays."""

    new_date = forms.DateField(
        validators=[dates.validate_date_in_range],
        label=_("Day"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    new_time = forms.TimeField(
        label=_("Start"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    override = forms.BooleanField(label=_("Outside working hours"), required=False)


class AppointmentForm(forms.Form):
    trainer = forms.ModelChoiceField(label=_("Trainer"), queryset=Trainer.objects.none())
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.none())
    room = forms.ModelChoiceField(
        label=_("Room"), queryset=Room.objects.none(), required=False, empty_label=_("No room")
    )
    day = forms.DateField(
        validators=[dates.validate_date_in_range],
        label=_("Day"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    start = forms.TimeField(
        label=_("Start"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    duration_minutes = forms.IntegerField(
        label=_("Length (minutes)"), min_value=5, max_value=MAX_DURATION_MINUTES, initial=60
    )
    video_link = forms.URLField(label=_("Video link"), required=False, assume_scheme="https")
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    override = forms.BooleanField(label=_("Outside working hours"), required=False)
    # The same override as the API's, for a client without a valid membership or credits
    # (owners and managers; billing audits it).
    override_membership = forms.BooleanField(label=_("Without a valid membership"), required=False)

    def __init__(
        self,
        *args: Any,
        trainers: QuerySet[Trainer],
        clients: QuerySet[Client],
        rooms: QuerySet[Room],
        allow_override: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trainer"].queryset = trainers  # type: ignore[attr-defined]
        self.fields["client"].queryset = clients  # type: ignore[attr-defined]
        self.fields["room"].queryset = rooms  # type: ignore[attr-defined]
        if not allow_override:
            del self.fields["override"]
            del self.fields["override_membership"]

    def add_service_errors(self, error: ValidationError) -> None:
        """Put a service's errors on the matching fields (start and end belong to the time;
        a membership refusal beside the override a manager may tick)."""
        add_service_errors(
            self,
            error,
            {
                "starts_at": "start",
                "ends_at": "duration_minutes",
                "membership": "override_membership",
            },
        )
