"""Forms of the staff dashboard and the public join page. They only parse input: the rules
(who may set what, duplicates, required contact) live in apps.crm.services, whose field errors
the views put back on these forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from apps.core.dates import EARLIEST
from apps.crm.models import Certification, Client, ClientStatus, LeadStatus, NoteKind, Trainer
from apps.crm.parq import PARQ_QUESTIONS
from apps.crm.phones import normalise_phone
from apps.tenants.selectors import gym_today

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
PARQ_PREFIX = "parq_"
PARQ_CHOICES = (("", _("Not answered")), ("yes", _("Yes")), ("no", _("No")))
_PARQ_VALUES = {"yes": True, "no": False}
JOIN_LEAD_FIELDS = ("first_name", "last_name", "email", "phone", "message", "marketing_consent")


def _date_input() -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _clean_phone(form: forms.Form, name: str) -> str:
    """apps.crm.phones' rule while the form is checked, so a bad number shows next to its
    field along with the form's other errors (the service applies it again)."""
    try:
        return normalise_phone(form.cleaned_data.get(name), field=name)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict[name], code="invalid_phone") from exc


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
        # The date picker offers no day after today or before 1900: the model's validator
        # (apps.core.dates.validate_birth_date) refuses them anyway.
        self.fields["date_of_birth"].widget.attrs.update(
            {"min": EARLIEST.isoformat(), "max": gym_today().isoformat()}
        )
        if with_health:
            # The PAR-Q as its yes/no questions; the service checks the answers again.
            for key, question in PARQ_QUESTIONS:
                self.fields[PARQ_PREFIX + key] = forms.ChoiceField(
                    label=question,
                    choices=PARQ_CHOICES,
                    required=False,
                    widget=forms.RadioSelect,
                )

    def clean_phone(self) -> str:
        return _clean_phone(self, "phone")

    def clean_emergency_contact_phone(self) -> str:
        return _clean_phone(self, "emergency_contact_phone")

    @staticmethod
    def initial_for(client: Client, *, with_health: bool) -> dict[str, Any]:
        names = CLIENT_FORM_FIELDS + (CLIENT_HEALTH_FORM_FIELDS if with_health else ())
        initial = {name: getattr(client, name) for name in names}
        if with_health:
            answers = client.parq_answers or {}
            for key, _question in PARQ_QUESTIONS:
                answer = answers.get(key)
                initial[PARQ_PREFIX + key] = "" if answer is None else ("yes" if answer else "no")
        return initial

    def contact_fields(self) -> list[forms.BoundField]:
        return [field for field in self if not field.name.startswith(PARQ_PREFIX)]

    def parq_fields(self) -> list[forms.BoundField]:
        return [field for field in self if field.name.startswith(PARQ_PREFIX)]

    def service_fields(self, *, changed_only: bool = False) -> dict[str, Any]:
        """The cleaned data as client_create/client_update take it: the PAR-Q questions
        become one `parq_answers` dict (sent whole when any answer changed)."""
        names = self.changed_data if changed_only else list(self.cleaned_data)
        fields = {
            name: self.cleaned_data[name] for name in names if not name.startswith(PARQ_PREFIX)
        }
        if any(name.startswith(PARQ_PREFIX) for name in names):
            fields["parq_answers"] = {
                key: _PARQ_VALUES[self.cleaned_data[PARQ_PREFIX + key]]
                for key, _question in PARQ_QUESTIONS
                if self.cleaned_data.get(PARQ_PREFIX + key) in _PARQ_VALUES
            }
        return fields


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

    def clean_phone(self) -> str:
        return _clean_phone(self, "phone")

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))

    def lead_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data[name] for name in JOIN_LEAD_FIELDS}


class ClientBulkForm(forms.Form):
    """A bulk action on the clients picked on the list: which one, its value, and whether
    the person has confirmed it. `clients` only offers the clients the viewer may see, so an
    id from another gym (or outside the viewer's rules) is refused like any unknown one."""

    ASSIGN = "assign"
    TAG = "tag"
    STATUS = "status"
    EXPORT = "export"
    ACTIONS = (
        (ASSIGN, _("Assign a trainer")),
        (TAG, _("Add a tag")),
        (STATUS, _("Change status")),
        (EXPORT, _("Export as CSV")),
    )

    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    ids = forms.ModelMultipleChoiceField(
        label=_("Clients"),
        queryset=Client.objects.none(),
        error_messages={"required": _("Pick at least one client.")},
    )
    trainer = forms.ModelChoiceField(
        label=_("Trainer"), queryset=Trainer.objects.none(), required=False
    )
    tag = forms.CharField(label=_("Tag"), max_length=60, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", "—"), *ClientStatus.choices], required=False
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, clients: Any, trainers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ids"].queryset = clients  # type: ignore[attr-defined]
        self.fields["trainer"].queryset = trainers  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        needs = {self.ASSIGN: "trainer", self.TAG: "tag", self.STATUS: "status"}
        field = needs.get(data.get("action", ""))
        if field and not data.get(field):
            self.add_error(field, _("Choose what to apply."))
        return data
