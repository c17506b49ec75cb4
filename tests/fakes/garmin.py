"""A loopback fake of Garmin Connect's OAuth 2 (PKCE) and its Health API, checking what Garmin
checks and answering as it does:

- the consent page (GET /oauth2Confirm: client_id, response_type=code, an S256
  code_challenge, redirect_uri) and `consent()`, the redirect the browser gets after "Agree";
- the token endpoint (POST /di-oauth2-service/oauth/token): client_id and client_secret in the
  form, single-use codes bound to their redirect_uri, the code_verifier checked against the
  challenge, refresh tokens that rotate (a spent one is refused with invalid_grant);
- /wellness-api/rest/user/id, /user/permissions, DELETE /user/registration, 401 for revoked
  or unknown tokens, 429 with Retry-After while throttled;
- backfill (GET /wellness-api/rest/backfill/<type>, 202): the summaries in the range are queued
  as push deliveries for `flush()` to POST to our webhook with the garmin-client-id header;
- ping mode: `ping()` builds the notification whose callbackURL we GET with the user's token.

    fake = FakeGarmin(client_id="abc", client_secret="s3cret").start()
    user = fake.add_user()
    fake.daily(user, days_ago=1, steps=9000)
    fake.consent(authorize_url)            # redirect_uri?code=...&state=...
    fake.push({"dailies": [summary]})      # a push payload (as Garmin POSTs it)
    fake.flush(post)                       # deliver queued pushes: post(body, headers)
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.fakes.loopback import LoopbackFake

TOKEN_PATH = "/di-oauth2-service/oauth/token"
AUTHORIZE_PATH = "/oauth2Confirm"
API = "/wellness-api/rest"
ALL_PERMISSIONS = ["ACTIVITY_EXPORT", "HEALTH_EXPORT", "WORKOUT_IMPORT", "COURSE_IMPORT"]


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class FakeGarmin(LoopbackFake):
    def __init__(self, *, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.lock = threading.Lock()
        self.users: dict[str, dict[str, Any]] = {}
        # summary type -> user -> summaries (the newest version of each summaryId)
        self.summaries: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        self.codes: dict[str, tuple[str, str, str]] = {}
        self.access_tokens: dict[str, str] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.pings: dict[str, list[dict[str, Any]]] = {}
        self.outbox: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.backfills: list[tuple[str, str, int, int]] = []
        self.refreshes = 0
        self.retry_after: int | None = None
        self.next_user: str | None = None

    @property
    def settings(self) -> dict[str, Any]:
        """The GARMIN_* settings that point the app at this fake."""
        return {
            "GARMIN_CLIENT_ID": self.client_id,
            "GARMIN_CLIENT_SECRET": self.client_secret,
            "GARMIN_AUTHORIZE_URL": f"{self.url}{AUTHORIZE_PATH}",
            "GARMIN_TOKEN_URL": f"{self.url}{TOKEN_PATH}",
            "GARMIN_API_BASE_URL": self.url,
        }

    # --- users and their data ---------------------------------------------------------------
    def add_user(self, *, permissions: list[str] | None = None) -> str:
        user = secrets.token_hex(16)
        self.users[user] = {"permissions": list(permissions or ALL_PERMISSIONS)}
        self.next_user = user
        return user

    def _store(self, summary_type: str, user: str, summary: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            by_user = self.summaries.setdefault(summary_type, {}).setdefault(user, {})
            by_user[summary["summaryId"]] = summary
        return summary

    def daily(self, user: str, *, days_ago: int = 1, **fields: Any) -> dict[str, Any]:
        day = (datetime.now(UTC) - timedelta(days=days_ago)).date()
        start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) - 3600
        summary = {
            "userId": user,
            "summaryId": f"x{user[:7]}-{start:x}",
            "calendarDate": day.isoformat(),
            "activityType": "WALKING",
            "activeKilocalories": 321,
            "bmrKilocalories": 1731,
            "steps": 4210,
            "distanceInMeters": 3146.5,
            "durationInSeconds": 86400,
            "activeTimeInSeconds": 12240,
            "startTimeInSeconds": start,
            "startTimeOffsetInSeconds": 3600,
            "moderateIntensityDurationInSeconds": 1800,
            "vigorousIntensityDurationInSeconds": 600,
            "floorsClimbed": 8,
            "minHeartRateInBeatsPerMinute": 49,
            "averageHeartRateInBeatsPerMinute": 64,
            "maxHeartRateInBeatsPerMinute": 152,
            "restingHeartRateInBeatsPerMinute": 54,
            **fields,
        }
        return self._store("dailies", user, summary)

    def sleep(self, user: str, *, days_ago: int = 1, **fields: Any) -> dict[str, Any]:
        day = (datetime.now(UTC) - timedelta(days=days_ago)).date()
        start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) - 3 * 3600
        summary = {
            "userId": user,
            "summaryId": f"x{user[:7]}-{start:x}-6f54",
            "calendarDate": day.isoformat(),
            "durationInSeconds": 28500,
            "startTimeInSeconds": start,
            "startTimeOffsetInSeconds": 3600,
            "unmeasurableSleepInSeconds": 0,
            "deepSleepDurationInSeconds": 6000,
            "lightSleepDurationInSeconds": 14400,
            "remSleepInSeconds": 6300,
            "awakeDurationInSeconds": 1800,
            "validation": "ENHANCED_FINAL",
            **fields,
        }
        return self._store("sleeps", user, summary)

    def activity(self, user: str, *, days_ago: int = 1, **fields: Any) -> dict[str, Any]:
        start = int((datetime.now(UTC) - timedelta(days=days_ago)).timestamp())
        activity_id = secrets.randbelow(10**10) + 10**9
        summary = {
            "userId": user,
            "summaryId": str(activity_id),
            "activityId": activity_id,
            "activityName": "Morning Run",
            "activityType": "RUNNING",
            "durationInSeconds": 1789,
            "startTimeInSeconds": start,
            "startTimeOffsetInSeconds": 3600,
            "averageHeartRateInBeatsPerMinute": 144,
            "maxHeartRateInBeatsPerMinute": 171,
            "activeKilocalories": 367,
            "deviceName": "forerunner935",
            "distanceInMeters": 4976.83,
            "totalElevationGainInMeters": 16.0,
            "steps": 5022,
            **fields,
        }
        return self._store("activities", user, summary)

    def body_comp(self, user: str, *, days_ago: int = 1, **fields: Any) -> dict[str, Any]:
        at = int((datetime.now(UTC) - timedelta(days=days_ago)).timestamp())
        summary = {
            "userId": user,
            "summaryId": f"x{user[:7]}-{at:x}",
            "measurementTimeInSeconds": at,
            "measurementTimeOffsetInSeconds": 3600,
            "weightInGrams": 75450,
            "bodyFatInPercent": 17.1,
            "bodyMassIndex": 23.2,
            **fields,
        }
        return self._store("bodyComps", user, summary)

    def revoke(self, user: str) -> None:
        """The user disconnects us in Garmin Connect: every token of theirs stops working."""
        with self.lock:
            for store in (self.access_tokens, self.refresh_tokens):
                for token in [t for t, u in store.items() if u == user]:
                    del store[token]

    def throttle(self, seconds: int | None) -> None:
        """Answer every API call with 429 and this Retry-After (None: stop)."""
        self.retry_after = seconds

    # --- OAuth consent (the browser's side) -------------------------------------------------
    def _check_authorize(self, authorize_url: str) -> dict[str, str]:
        parts = urlsplit(authorize_url)
        assert parts.path == AUTHORIZE_PATH, parts.path
        params = dict(parse_qsl(parts.query))
        assert params.get("client_id") == self.client_id, "unknown client_id"
        assert params.get("response_type") == "code", "response_type must be code"
        assert params.get("code_challenge_method") == "S256", "PKCE S256 required"
        assert len(params.get("code_challenge", "")) == 43, "an S256 challenge is 43 characters"
        assert params.get("redirect_uri", "").startswith(("http://", "https://")), "redirect_uri"
        assert "code_verifier" not in params, "the verifier never travels in the URL"
        return params

    def consent(self, authorize_url: str, *, user: str | None = None, deny: bool = False) -> str:
        """Where Garmin sends the browser after the user agrees (or declines): checks the
        request as Garmin does (AssertionError otherwise)."""
        params = self._check_authorize(authorize_url)
        redirect_uri = params["redirect_uri"]
        if deny:
            query = {"state": params.get("state", ""), "error": "access_denied"}
            return f"{redirect_uri}?{urlencode(query)}"
        user = user or self.next_user or self.add_user()
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = (user, params["code_challenge"], redirect_uri)
        return f"{redirect_uri}?{urlencode({'code': code, 'state': params.get('state', '')})}"

    # --- what Garmin POSTs to us ------------------------------------------------------------
    @property
    def headers(self) -> dict[str, str]:
        return {"garmin-client-id": self.client_id, "Content-Type": "application/json"}

    def push(self, payload: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        return payload

    def ping(self, user: str, summary_type: str, summaries: list[dict[str, Any]]) -> dict:
        """A ping notification: the summaries wait behind a callbackURL for us to GET."""
        token = secrets.token_urlsafe(16)
        now = int(time.time())
        self.pings[token] = summaries
        query = urlencode(
            {"uploadStartTimeInSeconds": now - 60, "uploadEndTimeInSeconds": now, "token": token}
        )
        return {
            summary_type: [
                {
                    "userId": user,
                    "uploadStartTimeInSeconds": now - 60,
                    "uploadEndTimeInSeconds": now,
                    "callbackURL": f"{self.url}{API}/{summary_type}?{query}",
                }
            ]
        }

    def deregistration(self, user: str) -> dict[str, Any]:
        return {"deregistrations": [{"userId": user}]}

    def permissions_change(self, user: str, permissions: list[str]) -> dict[str, Any]:
        self.users.setdefault(user, {})["permissions"] = list(permissions)
        return {
            "userPermissionsChange": [
                {
                    "userId": user,
                    "summaryId": f"x{user[:7]}-{int(time.time()):x}",
                    "permissions": list(permissions),
                    "changeTimeInSeconds": int(time.time()),
                }
            ]
        }

    def flush(self, post: Callable[[dict[str, Any], dict[str, str]], Any]) -> int:
        """POST every queued push (backfills') to our webhook through `post(body, headers)`."""
        sent = 0
        while self.outbox:
            with self.lock:
                payload = self.outbox.pop(0)
            post(payload, self.headers)
            sent += 1
        return sent

    # --- the HTTP side ----------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query))
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        self.requests.append((method, parts.path))
        status, body, headers = 404, {"errorMessage": "Not Found"}, {}
        content_type = "application/json;charset=UTF-8"
        if method == "GET" and parts.path == AUTHORIZE_PATH:
            status, body, content_type = self._consent_page(handler.path)
        elif method == "POST" and parts.path == TOKEN_PATH:
            status, body = self._token(dict(parse_qsl(raw)))
        elif parts.path.startswith(API + "/"):
            status, body, headers = self._api(handler, method, parts.path, query)
        if isinstance(body, str):
            payload = body.encode()
        elif status == 204:
            payload = b""
        else:
            payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _consent_page(self, path: str) -> tuple[int, str, str]:
        try:
            self._check_authorize(f"{self.url}{path}")
        except AssertionError as error:
            return 400, f"<p>{error}</p>", "text/html"
        agree = self.consent(f"{self.url}{path}")
        page = f'<h1>Garmin Connect</h1><a id="agree" href="{agree}">Agree</a>'
        return 200, page, "text/html"

    def _oauth_error(self, error: str, description: str) -> tuple[int, dict[str, Any]]:
        status = 401 if error == "invalid_client" else 400
        return status, {"error": error, "error_description": description}

    def _issue(self, user: str) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.access_tokens[access] = user
        self.refresh_tokens[refresh] = user
        return {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "expires_in": 86399,
            "scope": "PARTNER_WRITE PARTNER_READ CONNECT_READ CONNECT_WRITE",
            "jti": secrets.token_hex(16),
            "refresh_token_expires_in": 7775999,
        }

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("client_id") != self.client_id:
            return self._oauth_error("invalid_client", "unknown client_id")
        if form.get("client_secret") != self.client_secret:
            return self._oauth_error("invalid_client", "bad client_secret")
        with self.lock:
            if form.get("grant_type") == "authorization_code":
                entry = self.codes.pop(form.get("code", ""), None)
                if entry is None:
                    return self._oauth_error("invalid_grant", "unknown or used code")
                user, challenge, redirect_uri = entry
                if form.get("redirect_uri") != redirect_uri:
                    return self._oauth_error("invalid_grant", "redirect_uri mismatch")
                verifier = form.get("code_verifier", "")
                if not 43 <= len(verifier) <= 128 or s256(verifier) != challenge:
                    return self._oauth_error("invalid_grant", "PKCE verification failed")
                return 200, self._issue(user)
            if form.get("grant_type") == "refresh_token":
                # Rotation: the refresh token is spent; only the new one works from now on.
                user = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
                if user is None:
                    return self._oauth_error("invalid_grant", "refresh token invalid")
                self.refreshes += 1
                return 200, self._issue(user)
        return self._oauth_error("unsupported_grant_type", str(form.get("grant_type")))

    def _api(
        self, handler: BaseHTTPRequestHandler, method: str, path: str, query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if self.retry_after is not None:
            return (
                429,
                {"errorMessage": "Too Many Requests"},
                {"Retry-After": str(self.retry_after)},
            )
        auth = handler.headers.get("Authorization", "")
        user = self.access_tokens.get(auth.removeprefix("Bearer "))
        if user is None:
            return 401, {"errorMessage": "Unauthorized"}, {}
        if method == "GET" and path == f"{API}/user/id":
            return 200, {"userId": user}, {}
        if method == "GET" and path == f"{API}/user/permissions":
            return 200, self.users.get(user, {}).get("permissions", []), {}
        if method == "DELETE" and path == f"{API}/user/registration":
            self.users.setdefault(user, {})["deregistered"] = True
            self.revoke(user)
            return 204, None, {}
        if method == "GET" and path.startswith(f"{API}/backfill/"):
            summary_type = path.rsplit("/", 1)[1]
            try:
                start = int(query["summaryStartTimeInSeconds"])
                end = int(query["summaryEndTimeInSeconds"])
            except (KeyError, ValueError):
                return 400, {"errorMessage": "summary start and end required"}, {}
            if end - start > 90 * 24 * 3600:
                return 400, {"errorMessage": "range over 90 days"}, {}
            self.backfills.append((user, summary_type, start, end))
            items = [
                s
                for s in self.summaries.get(summary_type, {}).get(user, {}).values()
                if start <= _start(s) < end
            ]
            if items:
                with self.lock:
                    self.outbox.append({summary_type: items})
            return 202, "", {}
        if method == "GET" and query.get("token") in self.pings:
            summaries = self.pings[query["token"]]
            if any(s.get("userId") != user for s in summaries):
                return 401, {"errorMessage": "Unauthorized"}, {}
            return 200, summaries, {}
        return 404, {"errorMessage": "Not Found"}, {}


def _start(summary: dict[str, Any]) -> int:
    return int(summary.get("startTimeInSeconds") or summary.get("measurementTimeInSeconds") or 0)
