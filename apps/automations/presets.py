"""Ready-made rules a gym switches on with one click: each is created off, with its texts in
the language of whoever adds it, for the gym to read (and change) before switching it on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.automations.models import Action, Trigger

DAY = 24 * 60


@dataclass(frozen=True)
class Preset:
    key: str
    name: Promise
    description: Promise
    trigger: str
    # Steps are built when the rule is created, so their texts are in the current language.
    steps: Callable[[], list[dict[str, Any]]]
    threshold: int | None = None
    conditions: dict[str, Any] = field(default_factory=dict)


def _welcome() -> list[dict[str, Any]]:
    return [
        {
            "action": Action.EMAIL,
            "delay_minutes": 0,
            "subject": _("Welcome to {{ gym_name }}, {{ first_name }}!"),
            "body": _(
                "Hi {{ first_name }},\n\nWelcome to {{ gym_name }}! Book your classes and "
                "follow your plan in the app: {{ portal_url }}\n\nSee you soon!"
            ),
        },
        {
            "action": Action.EMAIL,
            "delay_minutes": 3 * DAY,
            "subject": _("How are your first days going?"),
            "body": _(
                "Hi {{ first_name }},\n\nHow are your first days at {{ gym_name }}? If "
                "anything is unclear, just reply: we are happy to help."
            ),
        },
        {
            "action": Action.CREATE_TASK,
            "delay_minutes": 4 * DAY,
            "title": _("Check in with {{ full_name }} after their first week"),
            "assignee": "trainer",
            "due_days": 0,
        },
    ]


def _gym_sends_texts() -> bool:
    from apps.sms.selectors import messaging_service_for_gym
    from apps.tenants.selectors import current_gym

    return messaging_service_for_gym(gym=current_gym()) is not None


def _lead_follow_up() -> list[dict[str, Any]]:
    # The lead's own messages answer their enquiry (apps.automations.services._lead_recipient:
    # only while it is open and recent); one without an email address skips the email.
    steps: list[dict[str, Any]] = [
        {
            "action": Action.EMAIL,
            "delay_minutes": 0,
            "subject": _("Thanks for getting in touch, {{ first_name }}"),
            "body": _(
                "Hi {{ first_name }},\n\nThank you for your interest in {{ gym_name }}! "
                "We will call you shortly to find a time for your first visit. If you have a "
                "question in the meantime, just reply to this email."
            ),
        },
        {
            "action": Action.CREATE_TASK,
            "delay_minutes": 0,
            "title": _("Call the new lead {{ full_name }}"),
            "assignee": "",
            "due_days": 1,
        },
    ]
    if _gym_sends_texts():
        steps.append(
            {
                "action": Action.SMS,
                "delay_minutes": DAY,
                "body": _(
                    "Hi {{ first_name }}, this is {{ gym_name }}. When would suit you for a "
                    "first visit? Just reply to this text."
                ),
            }
        )
    steps.append(
        {
            "action": Action.CREATE_TASK,
            "delay_minutes": 3 * DAY if len(steps) == 2 else 2 * DAY,
            "title": _("Follow up with {{ full_name }} if they have not joined yet"),
            "assignee": "",
            "due_days": 0,
        }
    )
    return steps


def _win_back() -> list[dict[str, Any]]:
    return [
        {
            "action": Action.EMAIL,
            "delay_minutes": 0,
            "subject": _("We miss you, {{ first_name }}"),
            "body": _(
                "Hi {{ first_name }},\n\nWe have not seen you at {{ gym_name }} for a while. "
                "Your next class is only a tap away: {{ portal_url }}"
            ),
        },
        {"action": Action.ADD_TAG, "delay_minutes": 0, "tag": _("win-back")},
        {
            "action": Action.CREATE_TASK,
            "delay_minutes": 7 * DAY,
            "title": _("Call {{ full_name }}: no visit for four weeks"),
            "assignee": "trainer",
            "due_days": 1,
        },
    ]


def _birthday() -> list[dict[str, Any]]:
    return [
        {
            "action": Action.EMAIL,
            "delay_minutes": 0,
            "subject": _("Happy birthday, {{ first_name }}!"),
            "body": _(
                "Hi {{ first_name }},\n\nEveryone at {{ gym_name }} wishes you a happy "
                "birthday and a great year of training!"
            ),
        },
        {
            "action": Action.NOTIFY_TRAINER,
            "delay_minutes": 0,
            "subject": _("Birthday: {{ full_name }}"),
            "body": _("It is {{ full_name }}'s birthday today."),
        },
    ]


def _failed_payment() -> list[dict[str, Any]]:
    return [
        {
            "action": Action.CREATE_TASK,
            "delay_minutes": 0,
            "title": _("Payment failed: contact {{ full_name }}"),
            "assignee": "",
            "due_days": 1,
        },
        {
            "action": Action.EMAIL,
            "delay_minutes": 3 * DAY,
            "subject": _("Your membership payment is still open"),
            "body": _(
                "Hi {{ first_name }},\n\nYour last membership payment to {{ gym_name }} did "
                "not go through. Please update your card so you can keep booking: "
                "{{ portal_url }}"
            ),
        },
    ]


PRESETS: list[Preset] = [
    Preset(
        "welcome",
        gettext_lazy("Welcome series"),
        gettext_lazy("Two welcome emails and a check-in task for the trainer after a week."),
        Trigger.CLIENT_CREATED,
        _welcome,
    ),
    Preset(
        "lead_follow_up",
        gettext_lazy("Lead follow-up"),
        gettext_lazy(
            "A thank-you email to each new lead and a task to call them, a text the next day "
            "if the gym sends texts, and a reminder three days later."
        ),
        Trigger.LEAD_CREATED,
        _lead_follow_up,
    ),
    Preset(
        "win_back",
        gettext_lazy("Win-back"),
        gettext_lazy("An email after three weeks without a visit, then a call a week later."),
        Trigger.NO_VISIT,
        _win_back,
        threshold=21,
        conditions={"status": ["active"]},
    ),
    Preset(
        "birthday",
        gettext_lazy("Birthday wishes"),
        gettext_lazy("A birthday email, and a note to the client's trainer."),
        Trigger.BIRTHDAY,
        _birthday,
    ),
    Preset(
        "failed_payment",
        gettext_lazy("Failed payment"),
        gettext_lazy("A task to contact the client, and a reminder email three days later."),
        Trigger.PAYMENT_FAILED,
        _failed_payment,
    ),
]


def preset_get(key: str) -> Preset | None:
    return next((preset for preset in PRESETS if preset.key == key), None)
