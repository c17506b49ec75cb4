from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.messaging.services import MAX_BODY_LENGTH


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=MAX_BODY_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 1, "placeholder": _("Write a message…")}),
    )
    attachment = forms.FileField(
        label=_("Attach a picture or PDF"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*,application/pdf"}),
    )
