"""Forms of the check-in and kiosk pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CheckinSearchForm(forms.Form):
    search = forms.CharField(label=_("Search"), required=False, max_length=100)


class KioskForm(forms.Form):
    identifier = forms.CharField(
        label=_("Your email or phone number"),
        max_length=254,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )
