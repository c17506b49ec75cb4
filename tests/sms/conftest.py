"""SMS tests: the platform's Twilio account at a fake Twilio on loopback
(tests/fakes/twilio.py), each gym with a Messaging Service of its own, and the fake's
callbacks posted to the app through Django's test client (the test's transaction sees them)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client

from apps.sms.models import GymMessagingService
from apps.tenants.models import Gym
from tests.crm.conftest import crm_a, crm_b  # noqa: F401
from tests.fakes.twilio import FakeTwilio

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "fake-auth-token-0123456789abcdef"
SERVICE_A = "MG" + "a" * 32
SERVICE_B = "MG" + "b" * 32
INBOUND_URL = "http://localhost/integrations/twilio/inbound/"


@dataclass
class DjangoTransport:
    """Posts the fake's callbacks through Django's test client on the public host."""

    client: Client
    responses: list = field(default_factory=list)

    def __call__(self, url: str, params: dict[str, str], headers: dict[str, str]) -> int:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self.client.post(
            path,
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
        self.responses.append(response)
        return response.status_code


@pytest.fixture
def twilio(settings, db) -> Iterator[FakeTwilio]:  # type: ignore[no-untyped-def]
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.BASE_DOMAIN = "localhost"
    settings.URL_SCHEME = "http"
    settings.PUBLIC_PORT = ""
    fake = FakeTwilio(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        transport=DjangoTransport(Client(HTTP_HOST="localhost")),
    ).start()
    settings.TWILIO_BASE_URL = fake.url
    yield fake
    fake.stop()


@pytest.fixture
def service_a(gym_a: Gym) -> GymMessagingService:
    return GymMessagingService.objects.create(gym=gym_a, service_sid=SERVICE_A)


@pytest.fixture
def service_b(gym_b: Gym) -> GymMessagingService:
    return GymMessagingService.objects.create(gym=gym_b, service_sid=SERVICE_B)
