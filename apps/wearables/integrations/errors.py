"""What every provider's client raises, so services and tasks handle each provider the same way."""

from __future__ import annotations

from apps.wearables.integrations.budget import RateLimitedError

__all__ = ["AccessRevokedError", "NotFoundError", "ProviderError", "RateLimitedError"]


class ProviderError(Exception):
    """The provider answered something we cannot use (5xx, a malformed body, a network error)."""


class AccessRevokedError(ProviderError):
    """The user revoked our access (401 after a refresh, or the refresh token is refused)."""


class NotFoundError(ProviderError):
    """The object is gone (deleted since the notification was sent, or private now)."""
