"""The audit log's filter form (GET), shared by the page and the CSV export."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core import dates


class DateInput(forms.DateInput):
    input_type = "date"


class AuditEventFilterForm(forms.Form):
    action = forms.CharField(label=_("Action"), required=False, max_length=64)
    actor = forms.CharField(label=_("Actor email contains"), required=False, max_length=254)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=100)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    date_from = forms.DateField(
        validators=[dates.validate_date_in_range], label=_("From"), required=False, widget=DateInput
    )
    date_to = forms.DateField(
        validators=[dates.validate_date_in_range], label=_("To"), required=False, widget=DateInput
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> dict[str, Any]:
        """The valid, non-empty filters (an invalid field is shown as an error and ignored)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}
