"""A rule's steps: what each does and after how long. Stored as a JSON list on the rule
(models.Rule.steps); this module is their one definition and validation.

Each step is {"delay_minutes": int, "action": Action, ...parameters}: the delay counts from
the previous step (from the trigger for the first). Parameters per action:

| action | parameters |
| --- | --- |
| email | subject, body |
| sms, in_app | body |
| notify_trainer | subject, body |
| create_task | title, assignee ("" nobody, "trainer" the client's trainer, a user id), due_days |
| add_tag, remove_tag | tag |
| set_status | status |

Texts may use the placeholders in TEXT_PLACEHOLDERS (apps.notifications.templating)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.accounts.models import Role, User
from apps.automations.models import Action, Trigger
from apps.crm.models import ClientStatus

TEXT_PLACEHOLDERS = (
    "first_name",
    "last_name",
    "full_name",
    "gym_name",
    "trainer_name",
    "portal_url",
)
MAX_STEPS = 10
MAX_DELAY_MINUTES = 365 * 24 * 60
MESSAGE_ACTIONS = (Action.EMAIL, Action.SMS, Action.IN_APP)
# What a rule about a lead (no client yet) can do: answer the enquiry by email or SMS at the
# address the lead left, and make tasks; leads have no login, trainer, tags or status here.
LEAD_ACTIONS = (Action.EMAIL, Action.SMS, Action.CREATE_TASK)
LEAD_TRIGGERS = (Trigger.LEAD_CREATED,)
STAFF_ROLES = (Role.OWNER, Role.MANAGER, Role.TRAINER, Role.FRONT_DESK)

# The parameters each action keeps; anything else in a submitted step is dropped.
PARAMETERS: dict[str, tuple[str, ...]] = {
    Action.EMAIL: ("subject", "body"),
    Action.SMS: ("body",),
    Action.IN_APP: ("body",),
    Action.NOTIFY_TRAINER: ("subject", "body"),
    Action.CREATE_TASK: ("title", "assignee", "due_days"),
    Action.ADD_TAG: ("tag",),
    Action.REMOVE_TAG: ("tag",),
    Action.SET_STATUS: ("status",),
}
LIMITS = {"subject": 200, "body": 2000, "title": 200, "tag": 40}


def _step_clean(step: dict[str, Any], *, trigger: str) -> dict[str, Any]:
    """One step, cleaned; ValidationError keyed by parameter name."""
    errors: dict[str, list[str]] = {}
    action = step.get("action") or ""
    if action not in Action.values:
        raise ValidationError({"action": [_("Choose an action.")]})
    if trigger in LEAD_TRIGGERS and action not in LEAD_ACTIONS:
        raise ValidationError(
            {
                "action": [
                    _(
                        "A rule about new leads can only email or text the lead and create "
                        "tasks: a lead is no client yet."
                    )
                ]
            }
        )
    try:
        delay = int(step.get("delay_minutes") or 0)
    except (TypeError, ValueError):
        delay = -1
    if not 0 <= delay <= MAX_DELAY_MINUTES:
        errors["delay_minutes"] = [_("Wait between 0 minutes and a year.")]
    clean: dict[str, Any] = {"action": action, "delay_minutes": delay}
    for name in PARAMETERS[action]:
        value = step.get(name)
        value = "" if value is None else value
        if name in LIMITS:
            value = str(value).strip()
            if name == "tag":
                value = value.lower()
            required = name != "subject" or action == Action.EMAIL
            if required and not value:
                errors[name] = [_("This field is required.")]
            elif len(value) > LIMITS[name]:
                errors[name] = [_("At most %(count)d characters.") % {"count": LIMITS[name]}]
            elif name in ("subject", "body", "title"):
                # apps.notifications is imported when needed: crm's and billing's services
                # import this app's services to record triggers.
                from apps.notifications.templating import validate_template

                try:
                    validate_template(value, field=name, allowed=TEXT_PLACEHOLDERS)
                except ValidationError as error:
                    errors.update(error.message_dict)
        elif name == "status":
            if value not in ClientStatus.values:
                errors[name] = [_("Choose a status.")]
        elif name == "due_days":
            try:
                value = int(value or 0)
            except (TypeError, ValueError):
                value = -1
            if not 0 <= value <= 365:
                errors[name] = [_("Due within a year (0 is the same day).")]
        elif name == "assignee":
            value = str(value).strip()
            if value not in ("", "trainer"):
                if trigger in LEAD_TRIGGERS and value == "trainer":
                    errors[name] = [_("A lead has no trainer yet.")]
                elif not (
                    value.isdigit()
                    and User.objects.filter(
                        pk=int(value), role__in=STAFF_ROLES, is_active=True
                    ).exists()
                ):
                    errors[name] = [_("Choose a member of staff.")]
            elif value == "trainer" and trigger in LEAD_TRIGGERS:
                errors[name] = [_("A lead has no trainer yet.")]
        clean[name] = value
    if errors:
        raise ValidationError(errors)
    return clean


def steps_clean(steps: list[dict[str, Any]], *, trigger: str) -> list[dict[str, Any]]:
    """The steps cleaned, in order. ValidationError({"steps": [...]}) names the step and the
    field of each problem ("Step 2, body: Unknown placeholder: {{ nickname }}...")."""
    if not steps:
        raise ValidationError({"steps": [_("Add at least one step.")]})
    if len(steps) > MAX_STEPS:
        raise ValidationError({"steps": [_("At most %(count)d steps.") % {"count": MAX_STEPS}]})
    cleaned, messages = [], []
    for number, step in enumerate(steps, start=1):
        try:
            cleaned.append(_step_clean(step, trigger=trigger))
        except ValidationError as error:
            for field, field_messages in error.message_dict.items():
                for message in field_messages:
                    messages.append(
                        _("Step %(number)d, %(field)s: %(message)s")
                        % {"number": number, "field": field, "message": message}
                    )
    if messages:
        raise ValidationError({"steps": messages})
    return cleaned


def delay_describe(minutes: int) -> str:
    """A step's delay in words ("after 3 days", "after 2 hours", "at once")."""
    if minutes <= 0:
        return _("at once")
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return ngettext("after %(count)d day", "after %(count)d days", days) % {"count": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("after %(count)d hour", "after %(count)d hours", hours) % {"count": hours}
    return ngettext("after %(count)d minute", "after %(count)d minutes", minutes) % {
        "count": minutes
    }


def placeholder_help() -> list[tuple[str, str]]:
    """The placeholders a rule's texts may use, with what each becomes (for the editor)."""
    from apps.notifications.templating import PLACEHOLDERS

    return [("{{ " + name + " }}", str(PLACEHOLDERS.get(name, ""))) for name in TEXT_PLACEHOLDERS]
