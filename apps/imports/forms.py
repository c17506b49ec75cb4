from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.imports.models import DateOrder
from apps.imports.rows import Target


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Export your clients from your old software as CSV (at most 5 MB). The first line "
            "must name the columns."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )


class MappingForm(forms.Form):
    """One choice per column of the file: which client field it holds, or nothing."""

    date_order = forms.ChoiceField(label=_("Dates are written"), choices=DateOrder.choices)

    def __init__(
        self,
        *args: Any,
        headers: Sequence[str],
        targets: Sequence[Target],
        initial_mapping: dict[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.headers = list(headers)
        choices = [("", _("— do not import —")), *((t.name, t.label) for t in targets)]
        for position, header in enumerate(self.headers):
            # Field names by position: a header can hold any character.
            self.fields[f"column_{position}"] = forms.ChoiceField(
                label=header,
                choices=choices,
                required=False,
                initial=initial_mapping.get(header, ""),
            )

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"column_{position}"] for position in range(len(self.headers))]

    def mapping(self) -> dict[str, str]:
        return {
            header: self.cleaned_data.get(f"column_{position}") or ""
            for position, header in enumerate(self.headers)
        }
