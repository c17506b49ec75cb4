"""A loopback fake of Google's OAuth 2 and the Google Health API v4, checking what Google checks
and answering as it does.

OAuth: the consent step (client_id, redirect_uri, response_type=code, space-separated
googlehealth scopes, access_type=offline, an S256 code_challenge), the token endpoint (client
credentials, single-use codes bound to their redirect_uri and PKCE challenge, the verifier
checked; refresh answers carry no new refresh token, as Google's usually do; a revoked refresh
token gets 400 invalid_grant) and /revoke (the whole grant).
API: /v4/users/me/identity (the healthUserId), dataPoints lists with `filter`, `pageSize`
and `pageToken`/`nextPageToken`, dailyRollUp with a CivilTimeInterval range (14 days at most),
each checked against the granted scopes; 401 for revoked access tokens; a per-user limit per
minute with 429 and Retry-After beyond it.
Webhooks (Google's side): the subscriber verification pair and notification payloads.

    fake = FakeGoogleHealth(client_id="id", client_secret="secret").start()
    user = fake.add_user()
    fake.set_rollup(user, "steps", day, {"countSum": "9000"})
    fake.add_point(user, "sleep", {...})
    fake.consent(authorize_url)          # the redirect Google sends the browser to
    GET authorize_url                    # the same as a consent page with Allow and Deny links
    fake.notification(user, "steps", start, end)
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from tests.fakes.loopback import LoopbackFake

SCOPE_PREFIX = "https://www.googleapis.com/auth/googlehealth."
AREAS = {
    "activity_and_fitness",
    "health_metrics_and_measurements",
    "sleep",
    "nutrition",
    "profile",
    "location",
}
# Which scope area each data type needs.
TYPE_AREA = {
    "steps": "activity_and_fitness",
    "distance": "activity_and_fitness",
    "active-zone-minutes": "activity_and_fitness",
    "total-calories": "activity_and_fitness",
    "exercise": "activity_and_fitness",
    "daily-resting-heart-rate": "health_metrics_and_measurements",
    "time-in-heart-rate-zone": "health_metrics_and_measurements",
    "heart-rate": "health_metrics_and_measurements",
    "weight": "health_metrics_and_measurements",
    "body-fat": "health_metrics_and_measurements",
    "sleep": "sleep",
    "nutrition-log": "nutrition",
    "hydration-log": "nutrition",
}
# The DataPoint union field for each data type.
FIELD = {name: re.sub(r"-(\w)", lambda m: m.group(1).upper(), name) for name in TYPE_AREA}
FOURTEEN_DAY_TYPES = {
    "total-calories",
    "heart-rate",
    "active-minutes",
    "calories-in-heart-rate-zone",
}
SESSION_PAGE_MAX = 25


def _b64(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode()


def _civil(day: date) -> dict[str, Any]:
    return {"date": {"year": day.year, "month": day.month, "day": day.day}}


def _day(civil: dict[str, Any]) -> date:
    parts = civil["date"]
    return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeGoogleHealth(LoopbackFake):
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        callback_domain: str = "localhost",
        limit_per_minute: int = 300,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.callback_domain = callback_domain
        self.limit_per_minute = limit_per_minute
        self.lock = threading.Lock()
        self.users: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        # token -> (user, scopes, grant id)
        self.access_tokens: dict[str, tuple[str, set[str], str]] = {}
        self.refresh_tokens: dict[str, tuple[str, set[str], str]] = {}
        self.usage: dict[tuple[str, int], int] = {}
        self.throttled: dict[str, int] = {}
        self.requests: list[tuple[str, str]] = []
        self.refreshes = 0
        self.revoked: list[str] = []
        # Data types whose endpoints answer 410 Gone (switched off).
        self.gone: set[str] = set()

    def settings(self) -> dict[str, str]:
        return {
            "GOOGLE_HEALTH_CLIENT_ID": self.client_id,
            "GOOGLE_HEALTH_CLIENT_SECRET": self.client_secret,
            "GOOGLE_HEALTH_AUTHORIZE_URL": f"{self.url}/o/oauth2/v2/auth",
            "GOOGLE_HEALTH_TOKEN_URL": f"{self.url}/token",
            "GOOGLE_HEALTH_REVOKE_URL": f"{self.url}/revoke",
            "GOOGLE_HEALTH_API_BASE_URL": self.url,
        }

    # --- data -------------------------------------------------------------------------------
    def add_user(self) -> str:
        user = str(secrets.randbelow(10**18) + 10**17)
        self.users[user] = {"points": {}, "rollups": {}}
        return user

    def set_rollup(self, user: str, data_type: str, day: date, value: dict[str, Any]) -> None:
        """The day's roll-up value for a data type (e.g. steps: {"countSum": "9000"})."""
        self.users[user]["rollups"].setdefault(data_type, {})[day] = value

    def add_point(self, user: str, data_type: str, value: dict[str, Any], **extra: Any) -> dict:
        """A raw data point; `value` is the union field's object (Sleep, Weight...)."""
        point = {
            "name": f"users/{user}/dataTypes/{data_type}/dataPoints/{secrets.token_hex(8)}",
            "dataSource": extra.pop(
                "dataSource",
                {"platform": "FITBIT", "device": {"displayName": "Pixel Watch 3"}},
            ),
            FIELD[data_type]: value,
        }
        self.users[user]["points"].setdefault(data_type, []).append(point)
        return point

    def remove_point(self, user: str, point: dict[str, Any]) -> None:
        data_type = point["name"].split("/")[3]
        self.users[user]["points"][data_type].remove(point)

    def revoke_user(self, user: str) -> None:
        """The user removes our access in their Google Account."""
        with self.lock:
            for store in (self.access_tokens, self.refresh_tokens):
                for token in [t for t, v in store.items() if v[0] == user]:
                    del store[token]

    def throttle(self, user: str, *, retry_after: int = 30) -> None:
        """The user's next call gets 429 with Retry-After."""
        self.throttled[user] = retry_after

    # --- OAuth consent (the browser's side) -------------------------------------------------
    def consent(
        self,
        authorize_url: str,
        *,
        user: str | None = None,
        grant: list[str] | None = None,
        deny: bool = False,
    ) -> str:
        """What Google redirects the browser to after the user consents: checks the request as
        Google does (AssertionError otherwise) and returns redirect_uri?state&code&scope."""
        parts = urlsplit(authorize_url)
        assert parts.path == "/o/oauth2/v2/auth", parts.path
        params = dict(parse_qsl(parts.query))
        assert params.get("client_id") == self.client_id, "unknown client_id"
        assert params.get("response_type") == "code", "response_type must be code"
        redirect_uri = params.get("redirect_uri", "")
        assert urlsplit(redirect_uri).hostname == self.callback_domain, "redirect_uri domain"
        assert params.get("access_type") == "offline", "no refresh token without offline"
        assert params.get("code_challenge_method") == "S256", "PKCE must use S256"
        assert len(params.get("code_challenge", "")) == 43, "S256 challenge"
        assert "code_verifier" not in params, "the verifier never travels in the URL"
        scopes = params.get("scope", "").split(" ")
        assert scopes, "no scope"
        assert all(s.startswith(SCOPE_PREFIX) for s in scopes), params.get("scope")
        assert all(s.removeprefix(SCOPE_PREFIX).rsplit(".", 1)[0] in AREAS for s in scopes)
        if deny:
            return f"{redirect_uri}?{urlencode({'state': params.get('state', ''), 'error': 'access_denied'})}"  # noqa: E501
        if user is None:
            user = next(reversed(self.users)) if self.users else self.add_user()
        granted = grant if grant is not None else scopes
        code = secrets.token_urlsafe(30)
        self.codes[code] = {
            "user": user,
            "scopes": set(granted),
            "redirect_uri": redirect_uri,
            "challenge": params["code_challenge"],
        }
        query = {"state": params.get("state", ""), "code": code, "scope": " ".join(granted)}
        return f"{redirect_uri}?{urlencode(query)}"

    # --- webhooks (Google's side) -----------------------------------------------------------
    def verify_subscriber(self, post: Callable[[bytes, dict[str, str]], int], secret: str) -> bool:
        """Google's check when a subscriber is created: the verification body once with the
        secret in Authorization (201 expected) and once without it (401 or 403 expected)."""
        body = json.dumps({"type": "verification"}).encode()
        with_secret = post(body, {"Content-Type": "application/json", "Authorization": secret})
        without = post(body, {"Content-Type": "application/json"})
        return with_secret == 201 and without in (401, 403)

    def notification(
        self,
        user: str,
        data_type: str,
        start: datetime,
        end: datetime,
        *,
        operation: str = "UPSERT",
    ) -> list[dict[str, Any]]:
        """A delivery's body: a JSON array of notifications (here one)."""
        return [
            {
                "data": {
                    "version": "1",
                    "clientProvidedSubscriptionName": "fitnesscrm",
                    "healthUserId": user,
                    "operation": operation,
                    "dataType": data_type,
                    "intervals": [
                        {
                            "physicalTimeInterval": {"startTime": iso(start), "endTime": iso(end)},
                            "civilDateTimeInterval": {
                                "startDateTime": _civil(start.date()),
                                "endDateTime": _civil(end.date()),
                            },
                        }
                    ],
                }
            }
        ]

    # --- the HTTP side ----------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query))
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        self.requests.append((method, unquote(parts.path)))
        status, body, headers = 404, _error(404, "NOT_FOUND"), {}
        path = unquote(parts.path)
        if method == "GET" and path == "/o/oauth2/v2/auth":
            self._consent_page(handler)
            return
        if method == "POST" and path == "/token":
            status, body = self._token(handler, dict(parse_qsl(raw)))
        elif method == "POST" and path == "/revoke":
            status, body = self._revoke(dict(parse_qsl(raw)))
        elif path.startswith("/v4/"):
            status, body, headers = self._api(handler, method, path, query, raw)
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _consent_page(self, handler: BaseHTTPRequestHandler) -> None:
        """Google's consent screen as a browser sees it: Allow and Deny links to the redirect
        (the user is the newest one added), or 400 naming what Google would refuse."""
        try:
            allow = self.consent(f"{self.url}{handler.path}")
            deny = self.consent(f"{self.url}{handler.path}", deny=True)
            status = 200
            body = (
                "<!doctype html><title>Sign in - Google Accounts</title>"
                "<h1>FitnessCRM wants to access your Google Account</h1>"
                f'<a id="allow" href="{html.escape(allow)}">Allow</a> '
                f'<a id="deny" href="{html.escape(deny)}">Cancel</a>'
            )
        except AssertionError as error:
            status, body = (
                400,
                f"<!doctype html><title>Error 400</title><p>{html.escape(str(error))}",
            )
        payload = body.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _client_ok(self, handler: BaseHTTPRequestHandler, form: dict[str, str]) -> bool:
        auth = handler.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            pair = base64.b64decode(auth[6:]).decode()
            return pair == f"{self.client_id}:{self.client_secret}"
        return form.get("client_id") == self.client_id and (
            form.get("client_secret") == self.client_secret
        )

    def _issue(self, user: str, scopes: set[str], grant: str) -> dict[str, Any]:
        access = "ya29." + secrets.token_urlsafe(30)
        self.access_tokens[access] = (user, scopes, grant)
        return {
            "access_token": access,
            "expires_in": 3599,
            "scope": " ".join(sorted(scopes)),
            "token_type": "Bearer",
        }

    def _token(
        self, handler: BaseHTTPRequestHandler, form: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        if not self._client_ok(handler, form):
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        with self.lock:
            if form.get("grant_type") == "authorization_code":
                entry = self.codes.pop(form.get("code", ""), None)
                if entry is None:
                    return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
                if form.get("redirect_uri") != entry["redirect_uri"]:
                    return 400, {"error": "redirect_uri_mismatch"}
                verifier = form.get("code_verifier", "")
                digest = hashlib.sha256(verifier.encode()).digest()
                challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if not verifier or challenge != entry["challenge"]:
                    return 400, {
                        "error": "invalid_grant",
                        "error_description": "Invalid code verifier.",
                    }
                grant = secrets.token_hex(8)
                token = self._issue(entry["user"], entry["scopes"], grant)
                refresh = "1//" + secrets.token_urlsafe(40)
                self.refresh_tokens[refresh] = (entry["user"], entry["scopes"], grant)
                return 200, {**token, "refresh_token": refresh}
            if form.get("grant_type") == "refresh_token":
                entry = self.refresh_tokens.get(form.get("refresh_token", ""))
                if entry is None:
                    return 400, {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    }
                self.refreshes += 1
                # Google keeps the refresh token: the answer carries only a new access token.
                return 200, self._issue(*entry)
        return 400, {"error": "unsupported_grant_type"}

    def _revoke(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        token = form.get("token", "")
        with self.lock:
            entry = self.access_tokens.get(token) or self.refresh_tokens.get(token)
            if entry is None:
                return 400, {"error": "invalid_token", "error_description": "Bad Request"}
            grant = entry[2]
            for store in (self.access_tokens, self.refresh_tokens):
                for key in [k for k, v in store.items() if v[2] == grant]:
                    del store[key]
            self.revoked.append(token)
        return 200, {}

    def _api(
        self,
        handler: BaseHTTPRequestHandler,
        method: str,
        path: str,
        query: dict[str, str],
        raw: str,
    ) -> tuple[int, Any, dict[str, str]]:
        auth = handler.headers.get("Authorization", "")
        entry = self.access_tokens.get(auth.removeprefix("Bearer "))
        if entry is None:
            return 401, _error(401, "UNAUTHENTICATED"), {}
        user, scopes, _grant = entry
        with self.lock:
            if user in self.throttled:
                wait = self.throttled.pop(user)
                return 429, _error(429, "RESOURCE_EXHAUSTED"), {"Retry-After": str(wait)}
            minute = int(time.time() // 60)
            self.usage[(user, minute)] = self.usage.get((user, minute), 0) + 1
            if self.usage[(user, minute)] > self.limit_per_minute:
                return (
                    429,
                    _error(429, "RESOURCE_EXHAUSTED"),
                    {"Retry-After": str(60 - int(time.time()) % 60)},
                )
        if method == "GET" and path == "/v4/users/me/identity":
            return 200, {"name": "users/me/identity", "healthUserId": user}, {}
        match = re.fullmatch(
            r"/v4/users/([^/]+)/dataTypes/([a-z-]+)/dataPoints(:dailyRollUp)?", path
        )
        if not match or match.group(1) not in ("me", user):
            return 404, _error(404, "NOT_FOUND"), {}
        data_type = match.group(2)
        if data_type in self.gone:
            return 410, _error(410, "GONE", "this endpoint is switched off"), {}
        area = TYPE_AREA.get(data_type)
        if area is None:
            return 400, _error(400, "INVALID_ARGUMENT", f"unknown data type {data_type}"), {}
        if not {f"{SCOPE_PREFIX}{area}.readonly", f"{SCOPE_PREFIX}{area}"} & scopes:
            return 403, _error(403, "PERMISSION_DENIED", "scope not granted"), {}
        if match.group(3) and method == "POST":
            return self._rollup(user, data_type, raw)
        if not match.group(3) and method == "GET":
            return self._list(user, data_type, query)
        return 404, _error(404, "NOT_FOUND"), {}

    def _list(self, user: str, data_type: str, query: dict[str, str]) -> tuple[int, Any, dict]:
        points = list(self.users[user]["points"].get(data_type, []))
        lower = re.search(r'>=\s*"([^"]+)"', query.get("filter", ""))
        upper = re.search(r'<\s*"([^"]+)"', query.get("filter", ""))
        if lower or upper:
            points = [
                p
                for p in points
                if (not lower or _key(p) >= lower.group(1))
                and (not upper or _key(p) < upper.group(1))
            ]
        points.sort(key=_key)
        size = int(query.get("pageSize") or 1440)
        if data_type in ("sleep", "exercise"):
            size = min(size, SESSION_PAGE_MAX)
        offset = (
            int(base64.urlsafe_b64decode(query["pageToken"]).decode())
            if query.get("pageToken")
            else 0
        )
        page = points[offset : offset + size]
        body: dict[str, Any] = {"dataPoints": page}
        if offset + size < len(points):
            body["nextPageToken"] = _b64(offset + size)
        return 200, body, {}

    def _rollup(self, user: str, data_type: str, raw: str) -> tuple[int, Any, dict]:
        try:
            request = json.loads(raw)
            start, end = _day(request["range"]["start"]), _day(request["range"]["end"])
        except (ValueError, KeyError, TypeError):
            return 400, _error(400, "INVALID_ARGUMENT", "range is required"), {}
        limit = 14 if data_type in FOURTEEN_DAY_TYPES else 90
        if not start < end or (end - start).days > limit:
            return 400, _error(400, "INVALID_ARGUMENT", f"range over {limit} days"), {}
        days = self.users[user]["rollups"].get(data_type, {})
        # Newest window first, as Google answers.
        points = [
            {
                "civilStartTime": _civil(day),
                "civilEndTime": _civil(day + timedelta(days=1)),
                FIELD[data_type]: days[day],
            }
            for day in sorted(days, reverse=True)
            if start <= day < end
        ]
        size = int(request.get("pageSize") or 7)
        offset = (
            int(base64.urlsafe_b64decode(request["pageToken"]).decode())
            if request.get("pageToken")
            else 0
        )
        body: dict[str, Any] = {"rollupDataPoints": points[offset : offset + size]}
        if offset + size < len(points):
            body["nextPageToken"] = _b64(offset + size)
        return 200, body, {}


def _key(point: dict[str, Any]) -> str:
    """What a filter compares: the interval's or sample's start (RFC 3339), or the day."""
    value = next(v for k, v in point.items() if k not in ("name", "dataSource"))
    if "interval" in value:
        return value["interval"]["startTime"]
    if "sampleTime" in value:
        return value["sampleTime"]["physicalTime"]
    if "date" in value:
        return _day(value).isoformat()
    return ""


def _error(code: int, status: str, message: str = "") -> dict[str, Any]:
    return {"error": {"code": code, "status": status, "message": message or status}}
