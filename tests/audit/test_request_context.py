"""Services take no request: where a write came from reaches its audit event through the
context AuditContextMiddleware sets, and only while a request is being served."""

from __future__ import annotations

import datetime

from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.audit.models import AuditEvent
from apps.crm.services import client_create
from tests.conftest import ALPHA, make_user

AGENT = "ContextTest/2.0 (pytest)"


def test_a_service_called_by_a_view_records_the_requests_origin(db, gym_a):
    browser = Client(HTTP_HOST=ALPHA.host, HTTP_USER_AGENT=AGENT, REMOTE_ADDR="198.51.100.44")
    with tenant_context(gym_a):
        trainer = make_user(Role.TRAINER, "context-trainer@alpha.example")
        browser.force_login(trainer)
    response = browser.post(
        "/clients/new/",
        {"first_name": "Viewed", "status": "active", "joined_on": "2024-01-02"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    with tenant_context(gym_a):
        event = AuditEvent.objects.get(action="client.created")
        assert event.actor == trainer
        assert (event.ip, event.user_agent, event.request_id) == (
            "198.51.100.44",
            AGENT,
            response["X-Request-ID"],
        )

        client_create(
            actor=trainer,
            first_name="Scripted",
            status="active",
            joined_on=datetime.date(2024, 1, 3),
        )
        outside = AuditEvent.objects.filter(action="client.created").latest("id")
        assert outside.pk != event.pk
        assert outside.actor == trainer
        assert (outside.ip, outside.user_agent, outside.request_id) == (None, "", "")
