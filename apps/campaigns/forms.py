from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.billing.models import MembershipPlan, MembershipStatus
from apps.campaigns.models import Campaign, CampaignChannel, Segment
from apps.crm.models import ClientStatus, Trainer

MONTHS = [
    (1, _("January")),
    (2, _("February")),
    (3, _("March")),
    (4, _("April")),
    (5, _("May")),
    (6, _("June")),
    (7, _("July")),
    (8, _("August")),
    (9, _("September")),
    (10, _("October")),
    (11, _("November")),
    (12, _("December")),
]


class SegmentForm(forms.Form):
    """The audience editor. Its fields are the rules of apps.campaigns.segments; `definition`
    gives them as the dict the selectors and services take."""

    name = forms.CharField(label=_("Name"), max_length=120)
    status = forms.MultipleChoiceField(
        label=_("Client status"),
        choices=ClientStatus.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tags = forms.CharField(
        label=_("Tags (any of, separated by commas)"), required=False, max_length=400
    )
    trainer = forms.ModelChoiceField(
        label=_("Trainer"), queryset=Trainer.objects.none(), required=False
    )
    plans = forms.ModelMultipleChoiceField(
        label=_("Membership plan"),
        queryset=MembershipPlan.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    membership_status = forms.MultipleChoiceField(
        label=_("Membership status"),
        choices=MembershipStatus.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    visited_within_days = forms.IntegerField(
        label=_("Visited in the last N days"), min_value=1, max_value=3650, required=False
    )
    not_visited_days = forms.IntegerField(
        label=_("No visit in the last N days"), min_value=1, max_value=3650, required=False
    )
    joined_after = forms.DateField(
        label=_("Joined from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    joined_before = forms.DateField(
        label=_("Joined until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    adherence_below = forms.IntegerField(
        label=_("30-day adherence below (%)"), min_value=0, max_value=100, required=False
    )
    adherence_at_least = forms.IntegerField(
        label=_("30-day adherence at least (%)"), min_value=0, max_value=100, required=False
    )
    birthday_month = forms.TypedChoiceField(
        label=_("Birthday in"),
        choices=[("", _("Any month")), *MONTHS],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args: Any, segment: Segment | None = None, **kwargs: Any) -> None:
        if segment is not None and "data" not in kwargs and not args:
            kwargs["initial"] = {"name": segment.name, **self.initial_from(segment.definition)}
        super().__init__(*args, **kwargs)
        self.fields["trainer"].queryset = Trainer.objects.filter(is_active=True).select_related(
            "user"
        )
        self.fields["plans"].queryset = MembershipPlan.objects.filter(archived_at__isnull=True)

    @staticmethod
    def initial_from(definition: dict[str, Any]) -> dict[str, Any]:
        initial = dict(definition)
        if "tags" in initial:
            initial["tags"] = ", ".join(initial["tags"])
        return initial

    @property
    def definition(self) -> dict[str, Any]:
        data = self.cleaned_data
        definition: dict[str, Any] = {}
        for key in ("status", "membership_status"):
            if data.get(key):
                definition[key] = list(data[key])
        if data.get("tags"):
            definition["tags"] = [t.strip() for t in data["tags"].split(",") if t.strip()]
        if data.get("trainer"):
            definition["trainer"] = data["trainer"].pk
        if data.get("plans"):
            definition["plans"] = [plan.pk for plan in data["plans"]]
        for key in (
            "visited_within_days",
            "not_visited_days",
            "adherence_below",
            "adherence_at_least",
            "birthday_month",
        ):
            if data.get(key) is not None:
                definition[key] = data[key]
        for key in ("joined_after", "joined_before"):
            if data.get(key):
                definition[key] = data[key].isoformat()
        return definition


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ("name", "channel", "segment", "subject", "body")
        widgets = {"body": forms.Textarea(attrs={"rows": 12})}
        help_texts = {
            "body": _(
                "Placeholders: {{ first_name }}, {{ full_name }}, {{ trainer_name }}, "
                "{{ gym_name }}, {{ portal_url }}, {{ unsubscribe_url }}. Links are tracked."
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.all()
        self.fields["subject"].help_text = _("Needed for email; not sent by text message.")
        self.fields["channel"].choices = CampaignChannel.choices

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def _post_clean(self) -> None:
        # The services validate and save; the form only parses.
        pass


class ScheduleForm(forms.Form):
    """A wall-clock time in the gym's time zone, kept naive: the service places it in the
    zone (Django's DateTimeField would read it in the request's zone)."""

    send_at = forms.CharField(
        label=_("Send at (the gym's time)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        max_length=20,
    )

    def clean_send_at(self) -> datetime:
        text = self.cleaned_data["send_at"].strip().replace(" ", "T")
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise forms.ValidationError(_("Enter a date and time.")) from None
        if value.tzinfo is not None or not 1900 <= value.year <= 2199:
            raise forms.ValidationError(_("Enter a date and time."))
        return value
