"""Automations in the gym's admin: owners (with two-factor) read rules, runs and tasks in flat
query counts; nothing is written there."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.automations import services
from apps.automations.models import Run, Trigger
from tests.automations.conftest import make_rule, tag_step
from tests.conftest import GymClient, activate_totp
from tests.crm.conftest import CrmGym

pytestmark = pytest.mark.django_db


def test_owner_reads_automations_in_the_admin(crm_a: CrmGym) -> None:
    with tenant_context(crm_a.gym):
        activate_totp(crm_a.owner)
        rule = make_rule(crm_a, Trigger.BIRTHDAY, [tag_step()])
        Run.objects.create(rule=rule, occurrence_key="k:1", client=crm_a.ann)
        services.task_create(actor=crm_a.owner, title="Call Ann", client=crm_a.ann)
    owner = GymClient(crm_a.gym.subdomain)
    owner.force_login(crm_a.owner)
    for model in ("rule", "run", "stafftask"):
        owner.get(f"/admin/automations/{model}/")
        with CaptureQueriesContext(connection) as few:
            assert owner.get(f"/admin/automations/{model}/").status_code == 200
        with tenant_context(crm_a.gym):
            for index in range(5):
                Run.objects.create(rule=rule, occurrence_key=f"m:{model}:{index}", client=crm_a.bob)
                services.task_create(actor=crm_a.owner, title=f"T{index}", client=crm_a.bob)
        with CaptureQueriesContext(connection) as many:
            assert owner.get(f"/admin/automations/{model}/").status_code == 200
        assert len(many.captured_queries) == len(few.captured_queries)
    assert owner.get("/admin/automations/rule/add/").status_code == 403
