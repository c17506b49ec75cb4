"""Gym settings fixtures: the CRM's small business in gym A and gym B (tests/crm/conftest.py),
and a logged-in test client per role."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import GymClient
from tests.crm.conftest import CrmGym, crm_a, crm_b  # noqa: F401

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def browser_as(crm_a: CrmGym) -> Callable[..., GymClient]:  # noqa: F811
    """`browser_as("manager")`: a test client on gym A's host logged in as that person."""

    def make(role: str, crm: CrmGym = crm_a) -> GymClient:
        client = GymClient(crm.gym.subdomain)
        client.force_login(crm.user(role))
        return client

    return make
