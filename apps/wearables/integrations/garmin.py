"""Garmin Connect Developer Program (Health and Activity APIs) over HTTP: OAuth 2 with PKCE
through authlib (settings.GARMIN_AUTHORIZE_URL, GARMIN_TOKEN_URL), API calls through httpx
against settings.GARMIN_API_BASE_URL (a fake on loopback in tests). Garmin has no scopes: the
user chooses what to share on its consent page, and `user_permissions` says what they chose.
Data is never pulled on our initiative: Garmin pushes summaries (or pings us with callback URLs
to fetch); a backfill request only asks it to push a past period. No business rules here."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from django.conf import settings

from apps.wearables.integrations.budget import budget_blocked_for, budget_observe
from apps.wearables.integrations.errors import (
    AccessRevokedError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
)

PROVIDER = "garmin"
__all__ = ["AccessRevokedError", "NotFoundError", "ProviderError", "RateLimitedError"]

# The summary types a backfill can be requested for (the path after /backfill/).
BACKFILL_TYPES = ("dailies", "sleeps", "activities", "bodyComps")
# Garmin refuses backfill ranges longer than 90 days in one request.
BACKFILL_MAX_SECONDS = 90 * 24 * 3600


def _api_base() -> str:
    return settings.GARMIN_API_BASE_URL.rstrip("/")


def _oauth(redirect_uri: str | None = None) -> OAuth2Client:
    return OAuth2Client(
        client_id=settings.GARMIN_CLIENT_ID,
        client_secret=settings.GARMIN_CLIENT_SECRET,
        # Garmin's token endpoint takes the client's credentials in the form body.
        token_endpoint_auth_method="client_secret_post",  # noqa: S106
        redirect_uri=redirect_uri,
        timeout=settings.GARMIN_TIMEOUT_SECONDS,
    )


def authorize_url(*, redirect_uri: str, state: str, code_challenge: str) -> str:
    """Garmin's consent page. The challenge is computed by the caller (providers.pkce), which
    keeps the verifier out of every URL."""
    with _oauth(redirect_uri) as client:
        url, _state = client.create_authorization_url(
            settings.GARMIN_AUTHORIZE_URL,
            state=state,
            code_challenge=code_challenge,
            code_challenge_method="S256",
        )
    return url


def _token(token: dict[str, Any]) -> dict[str, Any]:
    if not token.get("access_token"):
        raise AccessRevokedError(str(token.get("error_description") or "token refused"))
    return dict(token)


def _token_error(error: Exception) -> ProviderError:
    # invalid_grant: the code or refresh token is spent, expired or revoked by the user.
    if isinstance(error, OAuthError) and error.error == "invalid_grant":
        return AccessRevokedError(str(error))
    return ProviderError(str(error))


def _fetch_token(**kwargs: Any) -> dict[str, Any]:
    redirect_uri = kwargs.pop("redirect_uri", None)
    with _oauth(redirect_uri) as client:
        try:
            token = client.fetch_token(settings.GARMIN_TOKEN_URL, **kwargs)
        except (httpx.HTTPError, OAuthError, ValueError) as error:
            raise _token_error(error) from error
    return _token(token)


def exchange_code(*, code: str, code_verifier: str, redirect_uri: str) -> dict[str, Any]:
    """The user's tokens for an authorization code: access_token (24 h), refresh_token,
    expires_in."""
    return _fetch_token(
        grant_type="authorization_code",
        code=code,
        code_verifier=code_verifier,
        redirect_uri=redirect_uri,
    )


def refresh(*, refresh_token: str) -> dict[str, Any]:
    """New tokens. Garmin rotates the refresh token: the caller must keep the new one."""
    with _oauth() as client:
        try:
            token = client.refresh_token(settings.GARMIN_TOKEN_URL, refresh_token=refresh_token)
        except (httpx.HTTPError, OAuthError, ValueError) as error:
            raise _token_error(error) from error
    return _token(token)


def _call(
    method: str,
    url: str,
    *,
    access_token: str,
    params: dict[str, Any] | None = None,
) -> httpx.Response:
    """One call as the user; the shared errors for 401, 404, 429 and 5xx. After a 429 nobody
    calls Garmin until its Retry-After has passed (the budget is the application's)."""
    blocked = budget_blocked_for(provider=PROVIDER)
    if blocked:
        raise RateLimitedError(PROVIDER, blocked)
    try:
        response = httpx.request(
            method,
            url,
            params=params,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=settings.GARMIN_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        raise ProviderError(str(error)) from error
    budget_observe(provider=PROVIDER, status=response.status_code, headers=response.headers)
    if response.status_code == 429:
        raise RateLimitedError(PROVIDER, budget_blocked_for(provider=PROVIDER) or 60)
    if response.status_code in (401, 403):
        raise AccessRevokedError(f"{urlsplit(url).path}: HTTP {response.status_code}")
    if response.status_code == 404:
        raise NotFoundError(urlsplit(url).path)
    if response.status_code >= 400 and response.status_code != 409:
        raise ProviderError(f"{urlsplit(url).path}: HTTP {response.status_code}")
    return response


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as error:
        raise ProviderError(f"{response.request.url.path}: not JSON") from error


def user_id(*, access_token: str) -> str:
    """The user's stable Garmin id, what every delivery names them by."""
    body = _json(
        _call("GET", f"{_api_base()}/wellness-api/rest/user/id", access_token=access_token)
    )
    value = body.get("userId") if isinstance(body, dict) else None
    if not value:
        raise ProviderError("user/id: no userId")
    return str(value)


def user_permissions(*, access_token: str) -> list[str]:
    """What the user shares with us (HEALTH_EXPORT, ACTIVITY_EXPORT...), chosen on consent."""
    body = _json(
        _call("GET", f"{_api_base()}/wellness-api/rest/user/permissions", access_token=access_token)
    )
    return [str(item) for item in body] if isinstance(body, list) else []


def deauthorize(*, access_token: str) -> None:
    """Delete the user's registration: Garmin stops delivering, the tokens die. A token Garmin no
    longer knows is fine (the user already disconnected on Garmin's side)."""
    try:
        _call(
            "DELETE",
            f"{_api_base()}/wellness-api/rest/user/registration",
            access_token=access_token,
        )
    except (AccessRevokedError, NotFoundError):
        return
    except RateLimitedError as error:
        # Disconnecting goes on without Garmin: the caller deletes the tokens whatever happens.
        raise ProviderError(str(error)) from error


def request_backfill(
    *, access_token: str, summary_type: str, start_epoch: int, end_epoch: int
) -> int:
    """Ask Garmin to push `summary_type` for [start, end) (epoch seconds); it answers 202 and
    delivers later. Longer ranges are split. Returns how many requests were accepted (a 409,
    the same range already requested, counts as accepted)."""
    if summary_type not in BACKFILL_TYPES:
        raise ValueError(f"no backfill for {summary_type!r}")
    accepted = 0
    start = start_epoch
    while start < end_epoch:
        end = min(end_epoch, start + BACKFILL_MAX_SECONDS)
        response = _call(
            "GET",
            f"{_api_base()}/wellness-api/rest/backfill/{summary_type}",
            access_token=access_token,
            params={"summaryStartTimeInSeconds": start, "summaryEndTimeInSeconds": end},
        )
        if response.status_code not in (200, 202, 409):
            raise ProviderError(f"backfill {summary_type}: HTTP {response.status_code}")
        accepted += 1
        start = end
    return accepted


def is_callback_url(url: str) -> bool:
    """Whether a ping's callbackURL points at Garmin's API (anything else is never fetched with
    a user's token)."""
    ours, theirs = urlsplit(_api_base()), urlsplit(url)
    return (
        theirs.scheme == ours.scheme
        and theirs.netloc == ours.netloc
        and theirs.path.startswith("/wellness-api/rest/")
    )


def fetch_callback(*, access_token: str, url: str) -> list[dict[str, Any]]:
    """GET a ping's callbackURL: the list of summaries it stands for."""
    if not is_callback_url(url):
        raise ProviderError("callbackURL is not Garmin's API")
    body = _json(_call("GET", url, access_token=access_token))
    if not isinstance(body, list):
        raise ProviderError("callbackURL: not a list")
    return [item for item in body if isinstance(item, dict)]
