"""The demo gym's automations: every ready-made rule (two switched on) and a few tasks, and
nothing more on a second run."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.automations.demo import seed_automations
from apps.automations.models import Rule, StaffTask
from tests.crm.conftest import CrmGym

pytestmark = pytest.mark.django_db


def test_seed_automations_twice(crm_a: CrmGym) -> None:
    with tenant_context(crm_a.gym):
        assert seed_automations(owner=crm_a.owner) == {"rules": 5, "tasks": 3}
        assert seed_automations(owner=crm_a.owner) == {"rules": 0, "tasks": 0}
        assert set(Rule.objects.filter(enabled=True).values_list("preset", flat=True)) == {
            "welcome",
            "birthday",
        }
        assert StaffTask.objects.filter(client__isnull=False).count() == 3
