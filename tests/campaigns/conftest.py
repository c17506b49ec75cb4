"""Campaign fixtures: the CRM's small business in gym A and B (tests/crm/conftest.py), consents
written as the CRM records them, a real SMTP server on loopback, and logged-in browsers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from allauth.mfa.models import Authenticator
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.crm.models import Client, Consent, ConsentKind
from tests.conftest import GymClient, activate_totp
from tests.crm.conftest import CrmGym, crm_a, crm_b  # noqa: F401
from tests.fakes.smtp import FakeSmtpServer


def consent(
    client: Client,
    granted: bool = True,
    *,
    kind: str = ConsentKind.MARKETING_EMAIL,
    at: datetime | None = None,
) -> Consent:
    """A consent row as the CRM records it (call inside the client's gym)."""
    return Consent.objects.create(
        client=client, kind=kind, granted=granted, recorded_at=at or timezone.now()
    )


def make_client(first_name: str, email: str, *, agreed: bool = True, **fields: object) -> Client:
    client = Client.objects.create(first_name=first_name, last_name="Member", email=email, **fields)
    if agreed:
        consent(client)
    return client


def browser_as(crm: CrmGym, role: str) -> GymClient:
    """Logged in as `role`; owners and managers with the authenticator app they must have."""
    if role in ("owner", "manager"):
        with tenant_context(crm.gym):
            if not Authenticator.objects.filter(user=crm.user(role)).exists():
                activate_totp(crm.user(role))
    client = GymClient(crm.gym.subdomain)
    client.force_login(crm.user(role))
    return client


@pytest.fixture
def smtp_server(settings) -> Iterator[FakeSmtpServer]:
    """A real SMTP server on loopback, with Django's SMTP backend pointed at it (marketing mail
    goes through the same connection when no MARKETING_EMAIL_URL is set)."""
    with FakeSmtpServer() as server:
        for name, value in server.settings_overrides.items():
            setattr(settings, name, value)
        settings.EMAIL_URL = ""
        settings.MARKETING_EMAIL_URL = ""
        settings.CAMPAIGN_SEND_RATE = 10_000
        yield server
