"""Platform billing on, a webhook secret, and helpers that put a gym in a given standing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.platform_billing.models import GymSubscription, PlatformPlan
from apps.tenants.models import Gym
from tests.billing.conftest import (  # noqa: F401 (fixtures)
    event_payload,
    localstripe_url,
    sign,
    stripe_fake,
    stripe_fake_server,
)
from tests.conftest import ALPHA, BRAVO, GymClient, activate_totp

PLATFORM_SECRET = "whsec_platform_test"


@pytest.fixture
def billing_on(settings: Any) -> Any:
    settings.PLATFORM_BILLING = True
    settings.PLATFORM_BILLING_GRACE_DAYS = 14
    settings.PLATFORM_STRIPE_WEBHOOK_SECRET = PLATFORM_SECRET
    return settings


@pytest.fixture
def plan(db) -> PlatformPlan:
    return PlatformPlan.objects.create(
        code="studio",
        name="Studio",
        max_active_clients=200,
        amount=9900,
        currency="EUR",
        stripe_price_id="price_studio",
    )


def standing_set(gym: Gym, *, status: str, lapsed_days_ago: float | None = None, **fields: Any):
    lapsed_at = (
        timezone.now() - timedelta(days=lapsed_days_ago) if lapsed_days_ago is not None else None
    )
    row, _ = GymSubscription.objects.update_or_create(
        gym=gym, defaults={"status": status, "lapsed_at": lapsed_at, **fields}
    )
    return row


def owner_client(gym: Gym, email: str) -> GymClient:
    client = GymClient(gym.subdomain)
    with tenant_context(gym):
        owner = User.objects.get(email=email)
        if not owner.authenticator_set.exists():
            activate_totp(owner)
    client.force_login(owner)
    return client


@pytest.fixture
def owner_client_a(gym_a: Gym) -> GymClient:
    return owner_client(gym_a, ALPHA.owner_email)


@pytest.fixture
def owner_client_b(gym_b: Gym) -> GymClient:
    return owner_client(gym_b, BRAVO.owner_email)


def platform_deliver(client: Any, payload: dict[str, Any], **sign_kwargs: Any) -> Any:
    body = json.dumps(payload).encode()
    sign_kwargs.setdefault("secret", PLATFORM_SECRET)
    return client.post(
        "/integrations/stripe/platform/webhook/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, **sign_kwargs),
    )


__all__ = ["event_payload", "platform_deliver", "standing_set"]
