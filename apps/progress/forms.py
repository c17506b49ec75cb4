"""Forms of the progress pages. They parse input in the viewer's units and hand metric values
to apps.progress.services, which holds the rules (whose measurements, which ranges)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import UnitSystem
from apps.core import dates
from apps.progress.models import CONVERTIBLE_FIELDS, PLAIN_FIELDS, BodyMeasurement, Pose
from apps.progress.units import to_metric, unit_name
from apps.tenants.selectors import gym_today

LABELS = {
    "weight": _("Weight"),
    "neck": _("Neck"),
    "chest": _("Chest"),
    "waist": _("Waist"),
    "hips": _("Hips"),
    "arm": _("Arm"),
    "thigh": _("Thigh"),
    "calf": _("Calf"),
}


class MeasurementForm(forms.Form):
    """A measurement typed in the viewer's units; `metric_values()` gives what is stored."""

    measured_at = forms.DateTimeField(
        validators=[dates.validate_date_in_range],
        label=_("Measured at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, unit_system: str, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"measured_at": timezone.localtime().replace(second=0)})
        super().__init__(*args, **kwargs)
        self.unit_system = unit_system
        for public, quantity in CONVERTIBLE_FIELDS.values():
            unit = unit_name(quantity, unit_system)
            self.fields[public] = forms.DecimalField(
                label=f"{LABELS[public]} ({unit})",
                required=False,
                min_value=Decimal("0"),
                max_digits=7,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
            )
        for name in PLAIN_FIELDS:
            model_field = BodyMeasurement._meta.get_field(name)
            self.fields[name] = model_field.formfield(required=False)
            self.fields[name].widget.attrs["inputmode"] = "decimal"
        self.fields["notes"] = forms.CharField(
            label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
        )

    @staticmethod
    def aliases() -> dict[str, str]:
        return {stored: public for stored, (public, _quantity) in CONVERTIBLE_FIELDS.items()}

    def metric_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {
            stored: to_metric(data.get(public), quantity, self.unit_system)
            for stored, (public, quantity) in CONVERTIBLE_FIELDS.items()
        }
        values.update({name: data.get(name) for name in PLAIN_FIELDS})
        values["measured_at"] = data["measured_at"]
        values["notes"] = data.get("notes", "")
        return values


class PhotoForm(forms.Form):
    image = forms.FileField(
        label=_("Photo"),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif"}
        ),
    )
    pose = forms.ChoiceField(label=_("Pose"), choices=Pose.choices)
    taken_on = forms.DateField(
        validators=[dates.validate_date_in_range],
        label=_("Taken on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"taken_on": gym_today(), "pose": Pose.FRONT})
        super().__init__(*args, **kwargs)


class UnitSystemForm(forms.Form):
    unit_system = forms.ChoiceField(
        label=_("Units"), choices=UnitSystem.choices, widget=forms.RadioSelect
    )


class CompareForm(forms.Form):
    """Two photos side by side (ids among the client's photos)."""

    left = forms.TypedChoiceField(label=_("Left"), coerce=int)
    right = forms.TypedChoiceField(label=_("Right"), coerce=int)

    def __init__(self, *args: Any, photos: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            (photo.pk, f"{photo.taken_on:%Y-%m-%d} · {photo.get_pose_display()}")
            for photo in photos
        ]
        self.fields["left"].choices = choices
        self.fields["right"].choices = choices
