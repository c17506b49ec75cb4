"""People to notify in gym A: a client without a login (Walk-in Wanda), a client with a portal
login (Paula) and a trainer (Tess)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.crm.models import Client
from apps.tenants.models import Gym
from tests.conftest import make_user

# The CRM's small business in gyms A and B, for the API tests (tests/notifications/test_api.py).
from tests.crm.conftest import api_as, build_crm_gym, crm_a, crm_b  # noqa: F401


@dataclass(frozen=True)
class People:
    gym: Gym
    owner: User
    wanda: Client
    paula: User
    paula_client: Client
    tess: User


@pytest.fixture
def people(gym_a: Gym) -> Iterator[People]:
    """Inside gym A's schema for the test's body."""
    with tenant_context(gym_a):
        owner = User.objects.get(email="owner@alpha.example")
        wanda = Client.objects.create(
            first_name="Wanda", last_name="Walker", email="Wanda@Example.com", phone="+34600111222"
        )
        paula = make_user("client", "paula@example.com", first_name="Paula", language="es")
        paula_client = Client.objects.create(
            first_name="Paula", last_name="Pérez", email="paula@example.com", user=paula
        )
        tess = make_user("trainer", "tess@example.com", first_name="Tess")
        mail.outbox = []
        yield People(gym_a, owner, wanda, paula, paula_client, tess)


@pytest.fixture
def celery_retries_run_eagerly() -> Iterator[None]:
    """Eager Celery runs a task's retries one after the other (no waiting) when failures do not
    propagate; the test settings make them propagate, so tests see errors."""
    from fitnesscrm.celery import app

    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before
