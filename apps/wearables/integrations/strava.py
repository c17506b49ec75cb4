"""Strava API v3 over HTTP: OAuth through authlib, reads through httpx, both against
settings.STRAVA_BASE_URL (a fake on loopback in tests). Every API read draws on the
application-wide budget (integrations.budget). No business rules here: apps.wearables.services
decides what to do with what comes back."""

from __future__ import annotations

from typing import Any

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from django.conf import settings

from apps.wearables.integrations.budget import budget_acquire, budget_observe
from apps.wearables.integrations.errors import (
    AccessRevokedError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
)

PROVIDER = "strava"
__all__ = [
    "AccessRevokedError",
    "NotFoundError",
    "RateLimitedError",
    "StravaError",
]


# Strava's names for the shared errors, which services and tasks catch for every provider.
StravaError = ProviderError


def _base() -> str:
    return settings.STRAVA_BASE_URL.rstrip("/")


def _oauth(redirect_uri: str | None = None) -> OAuth2Client:
    return OAuth2Client(
        client_id=settings.STRAVA_CLIENT_ID,
        client_secret=settings.STRAVA_CLIENT_SECRET,
        # Strava takes the client's credentials in the form body.
        token_endpoint_auth_method="client_secret_post",  # noqa: S106
        redirect_uri=redirect_uri,
        timeout=settings.STRAVA_TIMEOUT_SECONDS,
    )


def authorize_url(*, redirect_uri: str, state: str, scopes: list[str]) -> str:
    with _oauth(redirect_uri) as client:
        url, _state = client.create_authorization_url(
            f"{_base()}/oauth/authorize",
            state=state,
            # Strava separates scopes with commas, not OAuth's spaces.
            scope=",".join(scopes),
            approval_prompt="auto",
        )
    return url


def _token(response_token: dict[str, Any]) -> dict[str, Any]:
    if not response_token.get("access_token"):
        # Strava answers a refused code or refresh token with 400 and {"message", "errors"}.
        raise AccessRevokedError(str(response_token.get("message") or "token refused"))
    return dict(response_token)


def exchange_code(*, code: str, redirect_uri: str) -> dict[str, Any]:
    """The athlete's tokens for an authorization code: access_token, refresh_token,
    expires_at (epoch seconds) and the athlete (its id)."""
    with _oauth(redirect_uri) as client:
        try:
            token = client.fetch_token(
                f"{_base()}/oauth/token", code=code, grant_type="authorization_code"
            )
        except httpx.HTTPError as error:
            raise StravaError(str(error)) from error
    return _token(token)


def refresh(*, refresh_token: str) -> dict[str, Any]:
    """New tokens. Strava may rotate the refresh token: the caller must keep the new one."""
    with _oauth() as client:
        try:
            token = client.refresh_token(f"{_base()}/oauth/token", refresh_token=refresh_token)
        except httpx.HTTPError as error:
            raise StravaError(str(error)) from error
    return _token(token)


def deauthorize(*, access_token: str) -> None:
    """Revoke our access (POST /oauth/deauthorize). A token Strava no longer knows is fine."""
    response = httpx.post(
        f"{_base()}/oauth/deauthorize",
        data={"access_token": access_token},
        timeout=settings.STRAVA_TIMEOUT_SECONDS,
    )
    if response.status_code >= 500:
        raise StravaError(f"deauthorize: HTTP {response.status_code}")


def api_get(*, access_token: str, path: str, params: dict[str, Any] | None = None) -> Any:
    """GET /api/v3<path> as the athlete; the decoded JSON."""
    budget_acquire(
        provider=PROVIDER,
        limit_15min=settings.STRAVA_RATE_LIMIT_15MIN,
        limit_daily=settings.STRAVA_RATE_LIMIT_DAILY,
    )
    try:
        response = httpx.get(
            f"{_base()}/api/v3{path}",
            params=params,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=settings.STRAVA_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        raise StravaError(str(error)) from error
    budget_observe(provider=PROVIDER, status=response.status_code, headers=response.headers)
    if response.status_code == 429:
        from apps.wearables.integrations.budget import budget_blocked_for

        raise RateLimitedError(PROVIDER, budget_blocked_for(provider=PROVIDER))
    if response.status_code == 401:
        raise AccessRevokedError("access token refused")
    if response.status_code == 404:
        raise NotFoundError(path)
    if response.status_code >= 400:
        raise StravaError(f"{path}: HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as error:
        raise StravaError(f"{path}: not JSON") from error
