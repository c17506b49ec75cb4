from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.tenants.services import gym_validate


class GymSignupForm(forms.Form):
    name = forms.CharField(label=_("Gym name"), max_length=120)
    subdomain = forms.CharField(
        label=_("Web address"),
        # Not max_length: the service's validator gives the friendlier message.
        help_text=_("Lower-case letters, digits and hyphens, e.g. iron-temple."),
        strip=True,
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    owner_email = forms.EmailField(label=_("Your email"))
    owner_password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        help_text=_("At least 10 characters. A long passphrase is best."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            gym_validate(
                name=data.get("name", ""),
                subdomain=data.get("subdomain", ""),
                owner_email=data.get("owner_email", ""),
                owner_password=data.get("owner_password", ""),
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field in self.errors:
                    continue  # the field's own check already explained what is wrong
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return data
