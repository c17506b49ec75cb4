"""The demo gym's automations: the ready-made rules (welcome series and birthday wishes
switched on, the others left paused to try) and a few follow-up tasks on the staff's to-do
lists. Safe to run again: what exists is left alone."""

from __future__ import annotations

from datetime import timedelta

from apps.accounts.models import Role, User
from apps.automations import services
from apps.automations.models import Rule, StaffTask
from apps.automations.presets import PRESETS
from apps.crm.models import Client
from apps.tenants.selectors import gym_today

SWITCHED_ON = ("welcome", "birthday")


def seed_automations(*, owner: User) -> dict[str, int]:
    rules = 0
    for preset in PRESETS:
        if Rule.objects.filter(preset=preset.key).exists():
            continue
        rule = services.rule_create_from_preset(actor=owner, key=preset.key)
        if preset.key in SWITCHED_ON:
            services.rule_set_enabled(actor=owner, rule=rule, enabled=True)
        rules += 1
    tasks = 0
    if not StaffTask.objects.exists():
        today = gym_today()
        trainer = User.objects.filter(role=Role.TRAINER).order_by("pk").first()
        clients = list(Client.objects.order_by("pk")[:3])
        plans = [
            ("Call {name} about renewing", owner, 0),
            ("Check {name}'s squat form", trainer, 1),
            ("Send {name} the nutrition guide", None, 3),
        ]
        for client, (title, assignee, days) in zip(clients, plans, strict=False):
            services.task_create(
                actor=owner,
                title=title.format(name=client.first_name),
                assignee=assignee,
                client=client,
                due_on=today + timedelta(days=days),
            )
            tasks += 1
    return {"rules": rules, "tasks": tasks}
