"""Forms of the exercise library and the plan builder. They only parse input; the rules are
apps.training.services', whose field errors the views put back on these forms
(apps.crm.forms.add_service_errors)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from apps.core import dates
from apps.crm.models import Client
from apps.training.models import (
    Exercise,
    ItemKind,
    LoadUnit,
    PlanStatus,
    WorkoutPlan,
)
from apps.training.vocabulary import Category, Equipment, Mechanics, Muscle, Tracking

DAY_CHOICES = [(n, _("Day %(number)s") % {"number": n + 1}) for n in range(7)]


class LinesField(forms.CharField):
    """A list of texts, one per line."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


def _date_input() -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class ExerciseFilterForm(forms.Form):
    search = forms.CharField(label=_("Search"), required=False)
    muscle = forms.ChoiceField(
        label=_("Muscle"), required=False, choices=[("", _("Any")), *Muscle.choices]
    )
    equipment = forms.ChoiceField(
        label=_("Equipment"), required=False, choices=[("", _("Any")), *Equipment.choices]
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("Any")), *Category.choices]
    )
    mechanics = forms.ChoiceField(
        label=_("Mechanics"), required=False, choices=[("", _("Any")), *Mechanics.choices]
    )
    source = forms.ChoiceField(
        label=_("Source"),
        required=False,
        choices=[("", _("Any")), ("library", _("Library")), ("gym", _("Our own"))],
    )


class ExerciseForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    aliases = LinesField(label=_("Other names (one per line)"), required=False)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    primary_muscles = forms.MultipleChoiceField(
        label=_("Primary muscles"), choices=Muscle.choices, widget=forms.CheckboxSelectMultiple
    )
    secondary_muscles = forms.MultipleChoiceField(
        label=_("Secondary muscles"),
        choices=Muscle.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    equipment = forms.MultipleChoiceField(
        label=_("Equipment"), choices=Equipment.choices, widget=forms.CheckboxSelectMultiple
    )
    mechanics = forms.ChoiceField(
        label=_("Mechanics"), choices=[("", "-"), *Mechanics.choices], required=False
    )
    tracking = forms.ChoiceField(label=_("What a logged set records"), choices=Tracking.choices)
    instructions = LinesField(label=_("Instructions (one step per line)"), required=False)
    cues = LinesField(label=_("Coaching cues (one per line)"), required=False)
    variation_of = forms.ModelChoiceField(
        label=_("Variation of"), queryset=Exercise.objects.none(), required=False
    )

    def __init__(self, *args: Any, exercises: QuerySet[Exercise], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variation_of"].queryset = exercises  # type: ignore[attr-defined]


class PlanForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    goal = forms.CharField(label=_("Goal"), max_length=200, required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[c for c in PlanStatus.choices if c[0] != PlanStatus.ARCHIVED],
        initial=PlanStatus.DRAFT,
    )


class PhaseForm(forms.Form):
    name = forms.CharField(label=_("Phase name"), max_length=120)


class DayForm(forms.Form):
    offset = forms.TypedChoiceField(label=_("Day"), choices=DAY_CHOICES, coerce=int)
    name = forms.CharField(label=_("Name"), max_length=120, required=False)


class ItemForm(forms.Form):
    exercise = forms.ModelChoiceField(label=_("Exercise"), queryset=Exercise.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=ItemKind.choices)
    sets = forms.IntegerField(label=_("Sets"), min_value=0, required=False)
    reps_min = forms.IntegerField(label=_("Reps (from)"), min_value=0, required=False)
    reps_max = forms.IntegerField(label=_("Reps (to)"), min_value=0, required=False)
    load_value = forms.DecimalField(label=_("Load"), max_digits=7, decimal_places=2, required=False)
    load_unit = forms.ChoiceField(
        label=_("Load unit"), choices=[("", "-"), *LoadUnit.choices], required=False
    )
    rest_seconds = forms.IntegerField(label=_("Rest (s)"), min_value=0, required=False)
    tempo = forms.CharField(label=_("Tempo"), max_length=7, required=False)
    superset = forms.CharField(label=_("Superset"), max_length=2, required=False)
    duration_seconds = forms.IntegerField(label=_("Time (s)"), min_value=0, required=False)
    distance_m = forms.IntegerField(label=_("Distance (m)"), min_value=0, required=False)
    pace_seconds_per_km = forms.IntegerField(label=_("Pace (s/km)"), min_value=0, required=False)
    heart_rate_zone = forms.IntegerField(
        label=_("Heart-rate zone"), min_value=1, max_value=5, required=False
    )
    notes = forms.CharField(label=_("Notes"), max_length=500, required=False)

    def __init__(self, *args: Any, exercises: QuerySet[Exercise], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exercise"].queryset = exercises  # type: ignore[attr-defined]

    def values(self) -> dict[str, Any]:
        """What item_add/item_update take: empty numbers as None, texts as ''."""
        return {
            name: (
                ""
                if value is None and name in ("tempo", "superset", "notes", "load_unit")
                else value
            )
            for name, value in self.cleaned_data.items()
        }


class AssignForm(forms.Form):
    template = forms.ModelChoiceField(label=_("Plan"), queryset=WorkoutPlan.objects.none())
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.none())
    start_date = forms.DateField(
        validators=[dates.validate_date_in_range], label=_("Start date"), widget=_date_input()
    )

    def __init__(
        self,
        *args: Any,
        templates: QuerySet[WorkoutPlan],
        clients: QuerySet[Client],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates  # type: ignore[attr-defined]
        self.fields["client"].queryset = clients  # type: ignore[attr-defined]
