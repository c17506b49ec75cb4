"""The SMS settings page's forms: the gym's Messaging Service, and a test send."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class MessagingServiceForm(forms.Form):
    service_sid = forms.CharField(
        label=_("Messaging Service SID"),
        max_length=34,
        help_text=_("In Twilio's console under Messaging, Services; it starts with MG."),
        widget=forms.TextInput(
            attrs={"placeholder": "MG…", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    sender_number = forms.CharField(
        label=_("Send from (optional)"),
        max_length=32,
        required=False,
        help_text=_("A number in the service's sender pool. Leave empty to let Twilio choose."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )


class TestSendForm(forms.Form):
    to = forms.CharField(
        label=_("Send a test to"),
        max_length=32,
        help_text=_("Your own mobile number, e.g. +44 7700 900123."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
