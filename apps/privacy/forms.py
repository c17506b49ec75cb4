from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ErasureForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Stored encrypted with the erasure record."),
    )
    confirm = forms.BooleanField(
        label=_("I understand that this erases the person's data and cannot be undone."),
        required=True,
    )
