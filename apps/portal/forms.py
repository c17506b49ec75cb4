"""The client's own profile form: only the fields apps.crm lets a client change themselves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BoundField
from django.utils.translation import gettext_lazy as _

from apps.core.forms import add_service_errors
from apps.crm.models import Client
from apps.crm.phones import normalise_phone


class PhoneField(forms.CharField):
    """A phone number as apps.crm stores it (E.164), by apps.crm.phones' one rule; the service
    checks it again, so every way in agrees."""

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        try:
            return normalise_phone(text)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["phone"], code="invalid_phone") from exc


def _max_length(field: str) -> int:
    return Client._meta.get_field(field).max_length  # type: ignore[return-value]


def _phone_field(label: str, *, autocomplete: str) -> forms.CharField:
    return PhoneField(
        label=label,
        required=False,
        max_length=_max_length("phone"),
        widget=forms.TextInput(
            attrs={"type": "tel", "inputmode": "tel", "autocomplete": autocomplete}
        ),
    )


class ClientProfileForm(forms.Form):
    """Mirrors apps.crm.services.CLIENT_SELF_SERVICE_FIELDS (a test keeps the two in step);
    anything else posted (status, health notes) is not a field here, so it is never read."""

    first_name = forms.CharField(
        label=_("First name"),
        max_length=_max_length("first_name"),
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        required=False,
        max_length=_max_length("last_name"),
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    phone = _phone_field(_("Phone"), autocomplete="tel")
    emergency_contact_name = forms.CharField(
        label=_("Contact name"),
        required=False,
        max_length=_max_length("emergency_contact_name"),
        help_text=_("Who we call if something happens to you at the gym."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    emergency_contact_phone = _phone_field(_("Contact phone"), autocomplete="off")
    goals = forms.CharField(
        label=_("Your goals"),
        required=False,
        max_length=5000,
        help_text=_("What you want to achieve; your trainer sees this."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    notify_by_email = forms.BooleanField(label=_("Email me reminders and news"), required=False)
    notify_by_sms = forms.BooleanField(label=_("Text me reminders"), required=False)

    FIELDSETS = (
        (_("About you"), ("first_name", "last_name", "phone")),
        (_("Emergency contact"), ("emergency_contact_name", "emergency_contact_phone")),
        (_("Goals"), ("goals",)),
        (_("Notifications"), ("notify_by_email", "notify_by_sms")),
    )

    @classmethod
    def initial_for(cls, client: Client) -> dict[str, Any]:
        return {name: getattr(client, name) for name in cls.base_fields}

    def fieldsets(self) -> Iterator[tuple[str, list[BoundField]]]:
        for legend, names in self.FIELDSETS:
            yield str(legend), [self[name] for name in names]

    def changed_values(self) -> dict[str, Any]:
        """Only what the client changed, so the audit log records just that."""
        return {name: self.cleaned_data[name] for name in self.changed_data}

    def add_service_errors(self, error: ValidationError) -> None:
        """Show the service's errors next to the fields they name."""
        add_service_errors(self, error)
