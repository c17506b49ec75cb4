"""Automations fixtures: the CRM's small business (tests/crm/conftest.py) in gyms A and B, and
helpers to make rules (call inside the gym)."""

from __future__ import annotations

from typing import Any

from apps.automations import services
from apps.automations.models import Rule
from tests.crm.conftest import CrmGym, api_as, build_crm_gym, crm_a, crm_b  # noqa: F401
from tests.sms.conftest import service_a, twilio  # noqa: F401


def make_rule(crm: CrmGym, trigger: str, steps: list[dict[str, Any]], **extra: Any) -> Rule:
    extra.setdefault("enabled", True)
    return services.rule_create(
        actor=crm.owner,
        name=extra.pop("name", f"When {trigger}"),
        trigger=trigger,
        steps=steps,
        **extra,
    )


def tag_step(tag: str = "welcomed", delay_minutes: int = 0) -> dict[str, Any]:
    return {"action": "add_tag", "tag": tag, "delay_minutes": delay_minutes}
