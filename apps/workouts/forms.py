"""Forms of the logging pages. Each set form carries a fresh `client_uuid`, so a form the phone
sends twice (a dropped connection, a double tap) logs its set once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.workouts.models import (
    MAX_HEART_RATE,
    MAX_WEEKLY_TARGET,
    MIN_HEART_RATE,
    RPE_VALUES,
)
from apps.workouts.services import LOAD_UNITS

RPE_FORM_CHOICES = [("", "-"), *[(format(v, "f"), format(v, "f")) for v in RPE_VALUES]]
RIR_FORM_CHOICES = [("", "-"), *[(str(n), str(n)) for n in range(11)]]
DISTANCE_UNITS = ("km", "mi")
METRES_PER_MILE = Decimal("1609.344")


class SetLogForm(forms.Form):
    exercise = forms.IntegerField(widget=forms.HiddenInput)
    plan_item = forms.IntegerField(required=False, widget=forms.HiddenInput)
    set_number = forms.IntegerField(min_value=1, max_value=100, widget=forms.HiddenInput)
    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    load_unit = forms.ChoiceField(choices=[(u, u) for u in LOAD_UNITS], widget=forms.HiddenInput)
    reps = forms.IntegerField(
        label=_("Reps"),
        min_value=0,
        max_value=1000,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    load = forms.DecimalField(
        label=_("Load"),
        min_value=0,
        max_digits=7,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.25"}),
    )
    rpe = forms.TypedChoiceField(
        label=_("RPE"),
        choices=RPE_FORM_CHOICES,
        coerce=Decimal,
        empty_value=None,
        required=False,
    )
    rir = forms.TypedChoiceField(
        label=_("RIR"), choices=RIR_FORM_CHOICES, coerce=int, empty_value=None, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("reps") is None and not self.errors:
            self.add_error("reps", _("Enter the reps you did."))
        return data


class CardioLogForm(forms.Form):
    exercise = forms.IntegerField(widget=forms.HiddenInput)
    plan_item = forms.IntegerField(required=False, widget=forms.HiddenInput)
    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    distance_unit = forms.ChoiceField(
        choices=[(u, u) for u in DISTANCE_UNITS], widget=forms.HiddenInput
    )
    minutes = forms.DecimalField(
        label=_("Minutes"),
        min_value=0,
        max_value=24 * 60,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5"}),
    )
    distance = forms.DecimalField(
        label=_("Distance"),
        min_value=0,
        max_digits=8,
        decimal_places=3,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    average_heart_rate = forms.IntegerField(
        label=_("Average heart rate"),
        min_value=MIN_HEART_RATE,
        max_value=MAX_HEART_RATE,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("minutes") is None and data.get("distance") is None and not self.errors:
            self.add_error("minutes", _("Enter the time or the distance."))
        return data

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        distance = data.get("distance")
        if distance is not None and data["distance_unit"] == "mi":
            distance *= METRES_PER_MILE / 1000
        return {
            "duration_seconds": None if data.get("minutes") is None else int(data["minutes"] * 60),
            "distance_m": None if distance is None else int(distance * 1000),
            "average_heart_rate": data.get("average_heart_rate"),
            "client_uuid": data["client_uuid"],
        }


class CompleteForm(forms.Form):
    perceived_effort = forms.TypedChoiceField(
        label=_("How hard was it? (1 easy, 10 maximal)"),
        choices=[("", "-"), *[(str(n), str(n)) for n in range(1, 11)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    notes = forms.CharField(
        label=_("Notes for your trainer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class WeeklyTargetForm(forms.Form):
    workouts_per_week = forms.IntegerField(
        label=_("Workouts per week"), min_value=1, max_value=MAX_WEEKLY_TARGET
    )
