"""Each provider's protocol client, one module per provider (`strava`, `garmin`,
`google_health`): OAuth through authlib, calls through httpx, no business rules. Every OAuth
provider's module offers `refresh(*, refresh_token) -> dict` (the token response) and raises the
errors of `integrations.errors`."""

from __future__ import annotations

import importlib
from types import ModuleType


def client_module(provider: str) -> ModuleType:
    """The protocol client of an OAuth provider (a Provider value)."""
    return importlib.import_module(f"apps.wearables.integrations.{provider}")
