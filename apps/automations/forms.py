"""The rule editor (the rule, its conditions, its steps) and the task form. The forms only
shape input; apps.automations.services validates and decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from apps.automations.models import Action, Trigger
from apps.automations.selectors import staff_choices
from apps.automations.steps import PARAMETERS
from apps.billing.models import MembershipStatus
from apps.crm.models import ClientStatus, Trainer

MINUTES_PER_DAY = 24 * 60


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    trigger = forms.ChoiceField(label=_("When"), choices=Trigger.choices)
    threshold = forms.IntegerField(
        label=_("Days or count"),
        required=False,
        min_value=0,
        max_value=1000,
        help_text=_(
            "Days before a trial ends, days without a visit, which class (3 for the third), or "
            "beats per minute above the client's usual resting heart rate."
        ),
    )
    status = forms.MultipleChoiceField(
        label=_("Client status is"),
        choices=ClientStatus.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tags = forms.CharField(
        label=_("Client has any of the tags"),
        required=False,
        help_text=_("Separate tags with commas."),
    )
    trainer = forms.ModelChoiceField(
        label=_("Client is trained by"),
        queryset=Trainer.objects.none(),
        required=False,
        empty_label=_("Any trainer or none"),
    )
    membership_status = forms.MultipleChoiceField(
        label=_("Membership is"),
        choices=MembershipStatus.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trainer"].queryset = Trainer.objects.select_related("user").filter(
            is_active=True
        )

    def conditions(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "status": data.get("status") or [],
            "tags": [t for t in (data.get("tags") or "").split(",") if t.strip()],
            "trainer": data["trainer"].pk if data.get("trainer") else None,
            "membership_status": data.get("membership_status") or [],
        }

    @staticmethod
    def initial_for(rule: Any) -> dict[str, Any]:
        conditions = rule.conditions or {}
        return {
            "name": rule.name,
            "trigger": rule.trigger,
            "threshold": rule.threshold,
            "status": conditions.get("status", []),
            "tags": ", ".join(conditions.get("tags", [])),
            "trainer": conditions.get("trainer"),
            "membership_status": conditions.get("membership_status", []),
        }


def _assignee_choices() -> list[tuple[str, str]]:
    choices = [("", _("Nobody in particular")), ("trainer", _("The client's trainer"))]
    for user in staff_choices():
        choices.append((str(user.pk), user.get_full_name() or user.email))
    return choices


class StepForm(forms.Form):
    """One step. Which parameters count depends on the action (steps.PARAMETERS); the page
    shows only those (static/js/automations.js) and the service keeps only those."""

    action = forms.ChoiceField(
        label=_("Then"), choices=[("", _("(no step)")), *Action.choices], required=False
    )
    delay_days = forms.IntegerField(label=_("Wait days"), min_value=0, max_value=365, initial=0)
    delay_hours = forms.IntegerField(label=_("and hours"), min_value=0, max_value=23, initial=0)
    subject = forms.CharField(label=_("Subject"), required=False, max_length=200)
    body = forms.CharField(
        label=_("Text"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    title = forms.CharField(label=_("Task"), required=False, max_length=200)
    assignee = forms.ChoiceField(label=_("For"), required=False, choices=())
    due_days = forms.IntegerField(
        label=_("Due in days"), required=False, min_value=0, max_value=365, initial=0
    )
    tag = forms.CharField(label=_("Tag"), required=False, max_length=40)
    status = forms.ChoiceField(
        label=_("New status"), required=False, choices=[("", "—"), *ClientStatus.choices]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = _assignee_choices()
        # Which actions each parameter belongs to, for the page's script.
        for name, field in self.fields.items():
            actions = [action for action, names in PARAMETERS.items() if name in names]
            if actions:
                field.widget.attrs["data-actions"] = " ".join(actions)

    def step(self) -> dict[str, Any] | None:
        """The step as the service takes it; None for a row left empty or deleted."""
        data = self.cleaned_data
        if not data.get("action") or data.get("DELETE"):
            return None
        step: dict[str, Any] = {
            "action": data["action"],
            "delay_minutes": (data.get("delay_days") or 0) * MINUTES_PER_DAY
            + (data.get("delay_hours") or 0) * 60,
        }
        for name in PARAMETERS[data["action"]]:
            step[name] = data.get(name)
        return step

    @staticmethod
    def initial_for(step: dict[str, Any]) -> dict[str, Any]:
        minutes = int(step.get("delay_minutes") or 0)
        return {
            **{key: value for key, value in step.items() if key != "delay_minutes"},
            "delay_days": minutes // MINUTES_PER_DAY,
            "delay_hours": (minutes % MINUTES_PER_DAY) // 60,
        }


StepFormSet = formset_factory(StepForm, extra=2, max_num=10, can_delete=True)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    due_on = forms.DateField(
        label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    assignee = forms.ChoiceField(label=_("For"), required=False, choices=())
    # The client the task is about, when it was opened from their page.
    client = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("Nobody in particular"))] + [
            (str(user.pk), user.get_full_name() or user.email) for user in staff_choices()
        ]
