"""Forms of the check-in, kiosk and policy pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.scheduling.models import PolicySettings


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


class PolicyForm(forms.ModelForm):
    class Meta:
        model = PolicySettings
        fields = ("strike_limit", "window_days", "block_days", "appointment_late_cancel_hours")
        help_texts = {
            "strike_limit": _("Late cancels and no-shows that block a client from booking."),
            "window_days": _("Only strikes this recent count (a rolling window)."),
            "block_days": _("How long a client cannot book once they reach the limit."),
            "appointment_late_cancel_hours": _(
                "Cancelling a 1:1 session closer than this to its start is a late cancel. "
                "Classes use their class type's window."
            ),
        }


class WaiveForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)
