"""Forms of the class pages. The timetable builder asks for days, a time and dates and builds
the RFC 5545 rule itself (apps.scheduling.classes.recurrence); nobody types a rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from apps.core.dates import validate_date_in_range
from apps.core.forms import add_service_errors
from apps.crm.models import Client, Trainer
from apps.scheduling.classes.recurrence import WEEKDAY_NUMBERS, weekly_rule
from apps.scheduling.models import ClassType, Room, validate_recurrence

# A timetable set up further ahead than this is almost surely a typo in the year.
MAX_START_AHEAD = timedelta(days=2 * 366)
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ClassTypeForm(forms.ModelForm):
    class Meta:
        model = ClassType
        fields = (
            "name",
            "description",
            "default_capacity",
            "duration_minutes",
            "colour",
            "booking_opens_days",
            "booking_closes_minutes",
            "late_cancel_minutes",
        )
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "colour": forms.TextInput(attrs={"type": "color"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["duration_minutes"].min_value = 1
        self.fields["duration_minutes"].widget.attrs["min"] = 1


def _trainer_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Trainer"),
        queryset=Trainer.objects.select_related("user").order_by(
            "user__first_name", "user__last_name", "pk"
        ),
        required=False,
        empty_label=_("No trainer yet"),
    )


def _room_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Room"),
        queryset=Room.objects.select_related("location"),
        required=False,
        empty_label=_("No room"),
    )


class TimetableForm(forms.Form):
    """A weekly class: which days, when, for how long, with whom and where, from when to when.
    `cleaned_data["rrule"]` is the rule built from the days, checked as the model checks it."""

    class_type = forms.ModelChoiceField(
        label=_("Class"), queryset=ClassType.objects.order_by("name", "pk")
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days of the week"),
        choices=[(day, WEEKDAYS[day]) for day in WEEKDAY_NUMBERS],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one day.")},
    )
    local_start_time = forms.TimeField(label=_("Start time"), widget=TIME_INPUT)
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=5, max_value=24 * 60
    )
    trainer = forms.ModelChoiceField(queryset=Trainer.objects.none(), required=False)
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=1000)
    starts_on = forms.DateField(
        label=_("Starts on"), widget=DATE_INPUT, validators=[validate_date_in_range]
    )
    ends_on = forms.DateField(
        label=_("Ends on"),
        required=False,
        widget=DATE_INPUT,
        validators=[validate_date_in_range],
        help_text=_("Leave empty to run until you end it."),
    )

    def __init__(self, *args: Any, today: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["trainer"] = _trainer_field()
        self.fields["room"] = _room_field()
        self.fields["local_start_time"].widget.attrs["step"] = 300
        for name in ("starts_on", "ends_on"):
            self.fields[name].widget.attrs["min"] = today.isoformat()

    def clean_starts_on(self) -> Any:
        starts_on = self.cleaned_data["starts_on"]
        if starts_on > self.today + MAX_START_AHEAD:
            raise ValidationError(_("Choose a start within the next two years."))
        return starts_on

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The end date must be on or after the start date."))
        weekdays = data.get("weekdays")
        if weekdays:
            rule = weekly_rule(weekdays=weekdays)
            try:
                validate_recurrence(rule)
            except ValidationError as error:
                self.add_error("weekdays", error)
            else:
                data["rrule"] = rule
        return data


class OccurrenceEditForm(forms.Form):
    """One class's date, time, length, trainer, room and capacity; `scope` says whether the
    later classes of its timetable change too."""

    SCOPE_THIS = "this"
    SCOPE_FOLLOWING = "following"

    scope = forms.ChoiceField(
        label=_("Change"),
        choices=[
            (SCOPE_THIS, _("Only this class")),
            (SCOPE_FOLLOWING, _("This and all following classes")),
        ],
        initial=SCOPE_THIS,
        widget=forms.RadioSelect,
    )
    day = forms.DateField(
        label=_("Date"),
        widget=DATE_INPUT,
        validators=[validate_date_in_range],
        help_text=_("Only this class can move to another day."),
    )
    local_start_time = forms.TimeField(label=_("Start time"), widget=TIME_INPUT)
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=5, max_value=24 * 60
    )
    trainer = forms.ModelChoiceField(queryset=Trainer.objects.none(), required=False)
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=0, max_value=1000)

    def __init__(self, *args: Any, in_series: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trainer"] = _trainer_field()
        self.fields["room"] = _room_field()
        if not in_series:
            del self.fields["scope"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("scope") == self.SCOPE_FOLLOWING
            and "day" in self.changed_data
            and data.get("day") is not None
        ):
            self.add_error("day", _("Move only this class to another day, or keep its date."))
        return data


class OccurrenceCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Message to the booked clients (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RosterBookForm(forms.Form):
    """Book a client into a class from its roster. The client comes from the roster's search
    (clients the viewer may see); `override_membership` is offered to owners and managers only,
    as in the calendar's appointment form."""

    client = forms.ModelChoiceField(
        label=_("Client"),
        queryset=Client.objects.none(),
        error_messages={"invalid_choice": _("Choose a client from the search.")},
    )
    override_membership = forms.BooleanField(
        label=_("Book without a valid membership"), required=False
    )

    def __init__(
        self, *args: Any, clients: QuerySet[Client], allow_override: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients  # type: ignore[attr-defined]
        if not allow_override:
            del self.fields["override_membership"]

    def add_service_errors(self, error: ValidationError) -> None:
        """A refusal of class_book on the form: a membership refusal beside the override a
        manager may tick (form-wide for others), the class's rules form-wide."""
        add_service_errors(self, error, {"membership": "override_membership"})
