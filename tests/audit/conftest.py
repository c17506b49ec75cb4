from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """allauth counts failed logins in the cache, which outlives each test's transaction."""
    cache.clear()
