from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from apps.crm.models import Assignment, Client, ClientStatus, Lead, Note, Trainer
from apps.tenants.models import Gym


@pytest.mark.django_db
def test_seed_demo_builds_a_realistic_business_and_can_run_again():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    gym = Gym.objects.get(subdomain="demo")
    with tenant_context(gym):
        assert Trainer.objects.count() == 5
        assert Client.objects.count() == 200
        statuses = set(Client.objects.values_list("status", flat=True))
        assert statuses == set(ClientStatus.values)
        assert Assignment.objects.filter(ends_on__isnull=True).count() > 100
        assert Note.objects.exists()
        assert Lead.objects.count() >= 10
        demo_client = Client.objects.get(email="client@demo.example")
        assert demo_client.user is not None
    assert "owner@demo.example" in out.getvalue()

    call_command("seed_demo", stdout=io.StringIO())  # idempotent
    with tenant_context(gym):
        assert Client.objects.count() == 200
