"""The Google Health API (v4) over HTTP, where Fitbit and Pixel data live since the Fitbit Web API
was switched off: Google's OAuth 2 with PKCE through authlib, reads through httpx, every URL from
settings (GOOGLE_HEALTH_*; a fake on loopback in tests). No business rules here:
apps.wearables.providers.google_health.services decides what to do with what comes back.

Google limits each user to GOOGLE_HEALTH_RATE_LIMIT_PER_MINUTE requests a minute, so the budget
is kept per healthUserId in the shared cache (as integrations.budget keeps Strava's per
application); a 429 blocks that user until its Retry-After has passed."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from django.conf import settings
from django.core.cache import cache
from django_tenants.utils import get_public_schema_name, schema_context

from apps.wearables.integrations.errors import (
    AccessRevokedError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
)

logger = logging.getLogger(__name__)

PROVIDER = "google_health"
SCOPE_PREFIX = "https://www.googleapis.com/auth/googlehealth."
# Every data area we may ask for, read-only.
AREAS = (
    "activity_and_fitness",
    "health_metrics_and_measurements",
    "sleep",
    "nutrition",
    "profile",
)
# Google caps a daily roll-up's range at 14 days for some types (90 for the rest): we ask in
# 14-day steps for all of them.
ROLLUP_MAX_DAYS = 14
# Sleep and exercise come 25 to a page at most; other types up to 10,000.
PAGE_SIZE = {"sleep": 25, "exercise": 25}
DEFAULT_PAGE_SIZE = 1000
MINUTE = 60

__all__ = [
    "AccessRevokedError",
    "NotFoundError",
    "ProviderError",
    "RateLimitedError",
]


def scope(area: str) -> str:
    return f"{SCOPE_PREFIX}{area}.readonly"


def _oauth(redirect_uri: str | None = None) -> OAuth2Client:
    return OAuth2Client(
        client_id=settings.GOOGLE_HEALTH_CLIENT_ID,
        client_secret=settings.GOOGLE_HEALTH_CLIENT_SECRET,
        token_endpoint_auth_method="client_secret_post",  # noqa: S106
        redirect_uri=redirect_uri,
        timeout=settings.GOOGLE_HEALTH_TIMEOUT_SECONDS,
    )


def authorize_url(*, redirect_uri: str, state: str, scopes: list[str], code_challenge: str) -> str:
    """Google's consent page. access_type=offline and prompt=consent: Google gives a refresh token
    only on a consent it showed, and a client reconnecting must get a new one."""
    with _oauth(redirect_uri) as client:
        url, _state = client.create_authorization_url(
            settings.GOOGLE_HEALTH_AUTHORIZE_URL,
            state=state,
            scope=" ".join(scopes),
            code_challenge=code_challenge,
            code_challenge_method="S256",
            access_type="offline",
            prompt="consent",
            include_granted_scopes="true",
        )
    return url


def _token_call(function: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        token = function(settings.GOOGLE_HEALTH_TOKEN_URL, **kwargs)
    except OAuthError as error:
        # invalid_grant: the code was spent or forged, or the refresh token was revoked or
        # expired (six months unused, a password change, the user removed our access).
        if error.error == "invalid_grant":
            raise AccessRevokedError(error.description or "invalid_grant") from error
        raise ProviderError(f"token endpoint: {error.error}") from error
    except (httpx.HTTPError, ValueError) as error:
        raise ProviderError(f"token endpoint: {error}") from error
    if not token.get("access_token"):
        raise ProviderError("token endpoint answered without an access token")
    return dict(token)


def exchange_code(*, code: str, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
    """The user's tokens for an authorization code: access_token, refresh_token, expires_in and
    the scopes granted (space-separated)."""
    with _oauth(redirect_uri) as client:
        return _token_call(
            client.fetch_token,
            code=code,
            grant_type="authorization_code",
            code_verifier=code_verifier,
        )


def refresh(*, refresh_token: str) -> dict[str, Any]:
    """A new access token. Google usually answers without a refresh token: the old one stays
    valid, and the caller keeps it."""
    with _oauth() as client:
        token = _token_call(client.refresh_token, refresh_token=refresh_token)
    token["refresh_token"] = token.get("refresh_token") or refresh_token
    return token


def deauthorize(*, access_token: str) -> None:
    """Revoke the grant (Google revokes the refresh token with its access token). A token Google
    no longer knows (400 invalid_token) is already what we want."""
    try:
        response = httpx.post(
            settings.GOOGLE_HEALTH_REVOKE_URL,
            data={"token": access_token},
            timeout=settings.GOOGLE_HEALTH_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        raise ProviderError(f"revoke: {error}") from error
    if response.status_code >= 500:
        raise ProviderError(f"revoke: HTTP {response.status_code}")
    if response.status_code == 400:
        # An expired access token is unknown to Google too, and then the grant outlives it: only
        # the refresh token (which the caller does not pass) would revoke it.
        logger.warning("Google refused to revoke an access token (expired or already revoked)")


# --- The per-user budget ---------------------------------------------------------------------


def _budget_keys(user: str, now: float) -> tuple[str, str]:
    prefix = f"wearables:budget:{PROVIDER}:{user}"
    return f"{prefix}:min:{int(now // MINUTE)}", f"{prefix}:blocked"


def budget_acquire(*, user: str) -> None:
    """Count one request against the user's per-minute budget; RateLimitedError if it is spent
    or Google told us to wait."""
    now = time.time()
    minute_key, blocked_key = _budget_keys(user, now)
    with schema_context(get_public_schema_name()):
        blocked_until = cache.get(blocked_key)
        if blocked_until and blocked_until > now:
            raise RateLimitedError(PROVIDER, math.ceil(blocked_until - now))
        cache.add(minute_key, 0, timeout=MINUTE + 10)
        try:
            used = cache.incr(minute_key)
        except ValueError:  # expired between add and incr
            cache.add(minute_key, 1, timeout=MINUTE + 10)
            used = 1
    if used > settings.GOOGLE_HEALTH_RATE_LIMIT_PER_MINUTE:
        raise RateLimitedError(PROVIDER, math.ceil(MINUTE - now % MINUTE))


def budget_block(*, user: str, seconds: int) -> None:
    now = time.time()
    with schema_context(get_public_schema_name()):
        cache.set(_budget_keys(user, now)[1], now + seconds, timeout=seconds + 60)


def budget_blocked_for(*, user: str) -> int:
    now = time.time()
    with schema_context(get_public_schema_name()):
        blocked_until = cache.get(_budget_keys(user, now)[1]) or 0
    return max(0, math.ceil(blocked_until - now))


def _retry_after(response: httpx.Response) -> int:
    try:
        return max(1, int(response.headers.get("Retry-After", "")))
    except ValueError:
        # Without the header, wait for the minute window to turn.
        return math.ceil(MINUTE - time.time() % MINUTE)


# --- Reads ------------------------------------------------------------------------------------


def _call(
    *,
    access_token: str,
    user: str,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
) -> Any:
    """One call to /v4<path> as the user, counted against the user's budget."""
    budget_acquire(user=user)
    try:
        response = httpx.request(
            method,
            f"{settings.GOOGLE_HEALTH_API_BASE_URL.rstrip('/')}/v4{path}",
            params=params,
            json=body,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=settings.GOOGLE_HEALTH_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        raise ProviderError(f"{path}: {error}") from error
    status = response.status_code
    if status == 429:
        wait = _retry_after(response)
        budget_block(user=user, seconds=wait)
        raise RateLimitedError(PROVIDER, wait)
    if status == 401:
        raise AccessRevokedError("access token refused")
    if status == 404:
        raise NotFoundError(path)
    if status == 410:
        raise ProviderError(
            f"{path}: HTTP 410 Gone: this endpoint is switched off (the Fitbit Web API was "
            "retired on 2 Nov 2026; data is read from the Google Health API v4 only)"
        )
    if status >= 400:
        raise ProviderError(f"{path}: HTTP {status}")
    try:
        return response.json()
    except ValueError as error:
        raise ProviderError(f"{path}: not JSON") from error


def health_user_id(*, access_token: str) -> str:
    """The user's healthUserId (what notifications name), from their identity."""
    # Before the id is known, the budget is kept under the token's digest.
    digest = hashlib.sha256(access_token.encode()).hexdigest()[:16]
    identity = _call(
        access_token=access_token, user=f"token-{digest}", method="GET", path="/users/me/identity"
    )
    user_id = str((identity or {}).get("healthUserId") or "")
    if not user_id or len(user_id) > 63:
        raise ProviderError("identity without a valid healthUserId")
    return user_id


def data_points(
    *, access_token: str, user: str, data_type: str, filter_expression: str = ""
) -> Iterator[dict[str, Any]]:
    """Every raw data point of a type matching the filter (AIP-160), following nextPageToken."""
    params: dict[str, Any] = {"pageSize": PAGE_SIZE.get(data_type, DEFAULT_PAGE_SIZE)}
    if filter_expression:
        params["filter"] = filter_expression
    while True:
        page = _call(
            access_token=access_token,
            user=user,
            method="GET",
            path=f"/users/me/dataTypes/{data_type}/dataPoints",
            params=params,
        )
        yield from (page or {}).get("dataPoints") or []
        token = (page or {}).get("nextPageToken")
        if not token:
            return
        params = {**params, "pageToken": token}


def _civil(day: date) -> dict[str, Any]:
    return {"date": {"year": day.year, "month": day.month, "day": day.day}}


def daily_rollup(
    *, access_token: str, user: str, data_type: str, start: date, end: date
) -> Iterator[dict[str, Any]]:
    """One roll-up point per civil day from `start` to `end` (exclusive), in the user's own time
    zone, in 14-day requests, each followed through nextPageToken."""
    window_start = start
    while window_start < end:
        window_end = min(end, window_start + timedelta(days=ROLLUP_MAX_DAYS))
        body: dict[str, Any] = {
            "range": {"start": _civil(window_start), "end": _civil(window_end)},
            "windowSizeDays": 1,
        }
        while True:
            page = _call(
                access_token=access_token,
                user=user,
                method="POST",
                path=f"/users/me/dataTypes/{data_type}/dataPoints:dailyRollUp",
                body=body,
            )
            yield from (page or {}).get("rollupDataPoints") or []
            token = (page or {}).get("nextPageToken")
            if not token:
                break
            body = {**body, "pageToken": token}
        window_start = window_end
