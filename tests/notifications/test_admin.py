from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.notifications.models import Delivery, Suppression
from tests.conftest import GymClient, activate_totp

pytestmark = pytest.mark.django_db


def test_the_admin_lists_deliveries_and_adds_suppressions_normalised(people):
    with tenant_context(people.gym):
        activate_totp(people.owner)
        Delivery.objects.create(channel="email", kind="test", event_key="a", address="x@y.z")
    client = GymClient(people.gym.subdomain)
    client.force_login(people.owner)
    assert client.get("/admin/notifications/delivery/").status_code == 200
    assert client.get("/admin/notifications/delivery/add/").status_code == 403
    response = client.post(
        "/admin/notifications/suppression/add/",
        {"channel": "email", "address": "Someone@Example.com", "reason": "manual", "detail": ""},
    )
    assert response.status_code == 302
    with tenant_context(people.gym):
        assert Suppression.objects.get().address == "someone@example.com"


def test_trainers_do_not_reach_the_notification_admin(people):
    client = GymClient(people.gym.subdomain)
    client.force_login(people.tess)
    assert client.get("/admin/notifications/delivery/").status_code in (302, 403)
