"""Connect tests use the Stripe fakes of tests/billing/conftest.py."""

from __future__ import annotations

from typing import Any

import pytest

from apps.connect.models import ConnectedAccount
from apps.tenants.models import Gym
from tests.billing.conftest import localstripe_url, stripe_fake, stripe_fake_server  # noqa: F401
from tests.crm.conftest import crm_a, crm_b  # noqa: F401
from tests.fakes.stripe_connect import FakeStripeConnect


def connect(fake: FakeStripeConnect, gym: Gym, **fields: Any) -> ConnectedAccount:
    """A connected account at the fake, recorded as the gym's."""
    account = fake.account_create(**fields)
    return ConnectedAccount.objects.create(gym=gym, account_id=account["id"])


@pytest.fixture
def account_a(stripe_fake: FakeStripeConnect, gym_a: Gym) -> ConnectedAccount:  # noqa: F811
    return connect(stripe_fake, gym_a)


@pytest.fixture
def account_b(stripe_fake: FakeStripeConnect, gym_b: Gym) -> ConnectedAccount:  # noqa: F811
    return connect(stripe_fake, gym_b)
