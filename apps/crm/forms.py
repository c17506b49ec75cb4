"""Forms of the staff dashboard and the public join page. They only parse input: the rules
(who may set what, duplicates, required contact) live in apps.crm.services, whose field errors
the views put back on these forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from apps.crm.models import Certification, Client, LeadStatus, NoteKind, Trainer

CLIENT_FORM_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "date_of_birth",
    "emergency_contact_name",
    "emergency_contact_phone",
    "goals",
    "status",
    "tags",
    "source",
    "joined_on",
)
CLIENT_HEALTH_FORM_FIELDS = ("health_notes",)
TRAINER_PROFILE_FIELDS = ("bio", "specialties", "hourly_rate", "calendar_colour")
JOIN_LEAD_FIELDS = ("first_name", "last_name", "email", "phone", "message", "marketing_consent")


def _date_input() -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the field it names when the form has
    that field, else as a form-wide error."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


class ClientForm(forms.Form):
    """Add or edit a client. Health fields only for those who may see health data."""

    def __init__(self, *args: Any, with_health: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = CLIENT_FORM_FIELDS + (CLIENT_HEALTH_FORM_FIELDS if with_health else ())
        self.fields.update(
            fields_for_model(
                Client,
                fields=names,
                widgets={
                    "date_of_birth": _date_input(),
                    "joined_on": _date_input(),
                    "goals": forms.Textarea(attrs={"rows": 3}),
                    "health_notes": forms.Textarea(attrs={"rows": 3}),
                },
                help_texts={"tags": _("Separate tags with commas.")},
            )
        )
        for name in ("email", "phone"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        self.fields["email"].widget.input_type = "email"
        self.fields["phone"].widget.input_type = "tel"
        # A callable model default would add a hidden "initial-" input to every form.
        self.fields["joined_on"].show_hidden_initial = False

    @staticmethod
    def initial_for(client: Client, *, with_health: bool) -> dict[str, Any]:
        names = CLIENT_FORM_FIELDS + (CLIENT_HEALTH_FORM_FIELDS if with_health else ())
        return {name: getattr(client, name) for name in names}


class NoteForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"))
    body = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (value, label) for value, label in NoteKind.choices if value in kinds
        ]


class AssignForm(forms.Form):
    trainer = forms.ModelChoiceField(label=_("Trainer"), queryset=Trainer.objects.none())
    is_primary = forms.BooleanField(label=_("Primary trainer"), required=False)

    def __init__(self, *args: Any, trainers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trainer"].queryset = trainers


class TrainerCreateForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(
                Trainer,
                fields=TRAINER_PROFILE_FIELDS,
                widgets={
                    "bio": forms.Textarea(attrs={"rows": 3}),
                    "calendar_colour": forms.TextInput(attrs={"type": "color"}),
                },
                help_texts={"specialties": _("Separate specialties with commas.")},
            )
        )
        self.fields["calendar_colour"].show_hidden_initial = False


class CertificationForm(forms.ModelForm):
    class Meta:
        model = Certification
        fields = ("name", "issuer", "issued_on", "expires_on")
        widgets = {"issued_on": _date_input(), "expires_on": _date_input()}

    def _post_clean(self) -> None:
        # The service validates the model; the form only parses.
        pass


class LeadStatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in LeadStatus if s != LeadStatus.CONVERTED]
    )


class JoinForm(forms.Form):
    """The public form on the gym's host. `website` is the honeypot: hidden from people by a
    CSS class, filled in by bots that fill in every field."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    message = forms.CharField(
        label=_("What would you like to achieve?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    marketing_consent = forms.BooleanField(
        label=_("Send me news and offers by email"), required=False
    )
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))

    def lead_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data[name] for name in JOIN_LEAD_FIELDS}
