"""Forms for MyFitnessPal: the export upload and the trainer's daily targets."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.wearables.providers.myfitnesspal.services import MAX_UPLOAD_BYTES


class ExportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("MyFitnessPal export (.zip or .csv)"),
        help_text=_(
            "In MyFitnessPal: Settings, Export data. Upload the zip it sends you, or its "
            "Nutrition Summary CSV."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,.csv,text/csv,application/zip"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB."),
                params={"size": MAX_UPLOAD_BYTES // (1024 * 1024)},
            )
        return upload


class NutritionTargetForm(forms.Form):
    calories_kcal = forms.IntegerField(
        label=_("Calories (kcal a day)"), required=False, min_value=500, max_value=10_000
    )
    protein_g = forms.IntegerField(
        label=_("Protein (g a day)"), required=False, min_value=0, max_value=1_000
    )
    carbohydrate_g = forms.IntegerField(
        label=_("Carbohydrate (g a day)"), required=False, min_value=0, max_value=2_000
    )
    fat_g = forms.IntegerField(
        label=_("Fat (g a day)"), required=False, min_value=0, max_value=1_000
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and all(cleaned.get(name) is None for name in self.fields):
            raise forms.ValidationError(_("Set at least one target."))
        return cleaned
