from __future__ import annotations

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from tests.fakes.strava import FakeStrava

CLIENT_ID, CLIENT_SECRET, VERIFY_TOKEN = "4242", "strava-secret", "verify-me"


@pytest.fixture
def fake_strava():
    fake = FakeStrava(client_id=CLIENT_ID, client_secret=CLIENT_SECRET).start()
    with override_settings(
        STRAVA_CLIENT_ID=CLIENT_ID,
        STRAVA_CLIENT_SECRET=CLIENT_SECRET,
        STRAVA_WEBHOOK_VERIFY_TOKEN=VERIFY_TOKEN,
        STRAVA_BASE_URL=fake.url,
    ):
        yield fake
    fake.stop()


def make_client(gym, email):  # type: ignore[no-untyped-def]
    from apps.accounts.models import Role
    from apps.crm.models import Client
    from tests.conftest import make_user

    with tenant_context(gym):
        user = make_user(Role.CLIENT, email)
        client = Client.objects.filter(user=user).first() or Client.objects.create(
            user=user, first_name="Casey", last_name="Runner", email=email
        )
    return user, client
