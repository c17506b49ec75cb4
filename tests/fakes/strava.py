"""A loopback fake of Strava API v3 and its OAuth, checking what Strava checks and answering as
it does: the authorize step (client_id, redirect_uri, response_type, comma-separated scopes)
with its consent page (GET /oauth/authorize: Authorize and Cancel redirect to the redirect_uri),
the token endpoint (client_id and client_secret in the form, single-use codes, refresh tokens
that rotate: a spent one is refused), deauthorization, /athlete/activities paginated with
after/before/page/per_page, /activities/{id} (404 once deleted), 401 for revoked tokens, and
the application's rate limit with X-RateLimit-Limit / X-RateLimit-Usage and 429 beyond it.
It also builds Strava's side of the webhook: the subscription validation and event payloads.

    fake = FakeStrava(client_id="1234", client_secret="s3cret").start()
    fake.url                                 # STRAVA_BASE_URL
    athlete = fake.add_athlete()             # an athlete id
    fake.add_activity(athlete, ...)          # an activity dict
    fake.consent(authorize_url)              # the redirect Strava sends the browser to
    # or a browser opens authorize_url itself: the fake's consent page, Authorize / Cancel
    fake.event("activity", 42, "create", owner_id=athlete)   # a webhook payload
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.fakes.loopback import LoopbackFake

KNOWN_SCOPES = {
    "read",
    "read_all",
    "profile:read_all",
    "profile:write",
    "activity:read",
    "activity:read_all",
    "activity:write",
}


class FakeStrava(LoopbackFake):
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        callback_domain: str = "localhost",
        limit_15min: int = 200,
        limit_daily: int = 2000,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.callback_domain = callback_domain
        self.limit_15min = limit_15min
        self.limit_daily = limit_daily
        self.usage = [0, 0]
        self.lock = threading.Lock()
        self.athletes: dict[int, dict[int, dict[str, Any]]] = {}
        self.codes: dict[str, tuple[int, str, str]] = {}
        self.access_tokens: dict[str, int] = {}
        self.refresh_tokens: dict[str, int] = {}
        self.requests: list[tuple[str, str]] = []
        self.refreshes = 0
        self._next_activity = 1000

    # --- data -------------------------------------------------------------------------------
    def add_athlete(self) -> int:
        athlete = secrets.randbelow(10**9) + 10**6
        self.athletes[athlete] = {}
        return athlete

    def add_activity(self, athlete: int, **fields: Any) -> dict[str, Any]:
        with self.lock:
            self._next_activity += 1
            activity_id = self._next_activity
        start = datetime.now(UTC) - timedelta(days=fields.pop("days_ago", 1))
        activity = {
            "id": activity_id,
            "athlete": {"id": athlete},
            "name": "Morning Run",
            "sport_type": "Run",
            "type": "Run",
            "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "start_date_local": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timezone": "(GMT+00:00) Europe/London",
            "elapsed_time": 1800,
            "moving_time": 1750,
            "distance": 5012.3,
            "total_elevation_gain": 31.0,
            "average_heartrate": 151.2,
            "max_heartrate": 178.0,
            "calories": 402.0,
            "device_name": "Garmin Forerunner 265",
            **fields,
        }
        self.athletes[athlete][activity_id] = activity
        return activity

    def revoke(self, athlete: int) -> None:
        """The athlete revokes our access on strava.com."""
        with self.lock:
            for store in (self.access_tokens, self.refresh_tokens):
                for token in [t for t, a in store.items() if a == athlete]:
                    del store[token]

    # --- OAuth consent (the browser's side) -------------------------------------------------
    def consent(self, authorize_url: str, *, grant: str | None = None, deny: bool = False) -> str:
        """What Strava redirects the browser to after the athlete approves: checks the request
        as Strava does (AssertionError otherwise) and returns redirect_uri?state&code&scope."""
        parts = urlsplit(authorize_url)
        assert parts.path == "/oauth/authorize", parts.path
        params = dict(parse_qsl(parts.query))
        assert params.get("client_id") == self.client_id, "unknown client_id"
        assert params.get("response_type") == "code", "response_type must be code"
        redirect_uri = params.get("redirect_uri", "")
        assert urlsplit(redirect_uri).hostname == self.callback_domain, "redirect_uri domain"
        scopes = [s for s in params.get("scope", "").split(",") if s]
        assert scopes, "no scope"
        assert set(scopes) <= KNOWN_SCOPES, f"bad scope {params.get('scope')!r}"
        assert " " not in params.get("scope", ""), "Strava scopes are comma-separated"
        if deny:
            query = {"state": params.get("state", ""), "error": "access_denied"}
            return f"{redirect_uri}?{urlencode(query)}"
        athlete = self.add_athlete() if not self.athletes else next(reversed(self.athletes))
        granted = grant if grant is not None else ",".join(scopes)
        code = secrets.token_hex(20)
        self.codes[code] = (athlete, granted, redirect_uri)
        query = {"state": params.get("state", ""), "code": code, "scope": granted}
        return f"{redirect_uri}?{urlencode(query)}"

    # --- webhooks (Strava's side) -----------------------------------------------------------
    def event(
        self,
        object_type: str,
        object_id: int,
        aspect_type: str,
        *,
        owner_id: int,
        updates: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return {
            "aspect_type": aspect_type,
            "event_time": int(time.time()),
            "object_id": object_id,
            "object_type": object_type,
            "owner_id": owner_id,
            "subscription_id": 120475,
            "updates": updates or {},
        }

    def validation_query(self, verify_token: str) -> dict[str, str]:
        return {
            "hub.mode": "subscribe",
            "hub.challenge": secrets.token_hex(8),
            "hub.verify_token": verify_token,
        }

    # --- the HTTP side ----------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query))
        length = int(handler.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(handler.rfile.read(length).decode())) if length else {}
        self.requests.append((method, parts.path))
        status, body, headers = 404, {"message": "Record Not Found"}, {}
        if method == "GET" and parts.path == "/oauth/authorize":
            self._consent_page(handler)
            return
        if method == "POST" and parts.path == "/oauth/token":
            status, body = self._token(form)
        elif method == "POST" and parts.path == "/oauth/deauthorize":
            athlete = self.access_tokens.get(form.get("access_token", ""))
            if athlete is None:
                status, body = 401, {"message": "Authorization Error"}
            else:
                self.revoke(athlete)
                status, body = 200, {"access_token": form["access_token"]}
        elif method == "GET" and parts.path.startswith("/api/v3/"):
            status, body, headers = self._api(handler, parts.path, query)
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _consent_page(self, handler: BaseHTTPRequestHandler) -> None:
        """Strava's consent page as a browser sees it: the scopes asked for, Authorize and Cancel
        links to the redirect (as the newest athlete), or 400 naming what Strava would refuse."""
        authorize_url = f"{self.url}{handler.path}"
        try:
            authorize = self.consent(authorize_url)
            cancel = self.consent(authorize_url, deny=True)
            scope = dict(parse_qsl(urlsplit(authorize_url).query))["scope"]
            status = 200
            body = (
                '<!doctype html><html><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width">'
                # No favicon request: a 404 for it would be a console error in browser tests.
                '<link rel="icon" href="data:,">'
                "<title>Authorize | Strava</title></head><body>"
                "<h1>Authorize FitnessCRM to connect to Strava</h1>"
                f"<p>Scopes: {html.escape(scope)}</p>"
                f'<a id="authorize" href="{html.escape(authorize)}">Authorize</a> '
                f'<a id="cancel" href="{html.escape(cancel)}">Cancel</a></body></html>'
            )
        except AssertionError as error:
            status = 400
            body = f"<!doctype html><title>Bad Request | Strava</title><p>{html.escape(str(error))}"
        payload = body.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _bad(self, field: str) -> tuple[int, dict[str, Any]]:
        return 400, {
            "message": "Bad Request",
            "errors": [{"resource": "Application", "field": field, "code": "invalid"}],
        }

    def _issue(self, athlete: int) -> dict[str, Any]:
        access, refresh = secrets.token_hex(20), secrets.token_hex(20)
        self.access_tokens[access] = athlete
        self.refresh_tokens[refresh] = athlete
        expires_at = int(time.time()) + 6 * 3600
        return {
            "token_type": "Bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_at": expires_at,
            "expires_in": 6 * 3600,
        }

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("client_id") != self.client_id:
            return self._bad("client_id")
        if form.get("client_secret") != self.client_secret:
            return self._bad("client_secret")
        with self.lock:
            if form.get("grant_type") == "authorization_code":
                entry = self.codes.pop(form.get("code", ""), None)
                if entry is None:
                    return self._bad("code")
                athlete, _scope, _redirect = entry
                return 200, {**self._issue(athlete), "athlete": {"id": athlete}}
            if form.get("grant_type") == "refresh_token":
                # Rotation: the refresh token is spent; only the new one works from now on.
                athlete = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
                if athlete is None:
                    return self._bad("refresh_token")
                self.refreshes += 1
                return 200, self._issue(athlete)
        return self._bad("grant_type")

    def _api(
        self, handler: BaseHTTPRequestHandler, path: str, query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            self.usage = [self.usage[0] + 1, self.usage[1] + 1]
            over = self.usage[0] > self.limit_15min or self.usage[1] > self.limit_daily
            headers = {
                "X-RateLimit-Limit": f"{self.limit_15min},{self.limit_daily}",
                "X-RateLimit-Usage": f"{self.usage[0]},{self.usage[1]}",
            }
        if over:
            return 429, {"message": "Rate Limit Exceeded"}, headers
        auth = handler.headers.get("Authorization", "")
        athlete = self.access_tokens.get(auth.removeprefix("Bearer "))
        if athlete is None:
            return 401, {"message": "Authorization Error"}, headers
        if path == "/api/v3/athlete/activities":
            page, per_page = int(query.get("page", 1)), min(200, int(query.get("per_page", 30)))
            after, before = int(query.get("after", 0)), int(query.get("before", 2**40))
            items = sorted(
                (
                    a
                    for a in self.athletes.get(athlete, {}).values()
                    if after < _epoch(a["start_date"]) < before
                ),
                key=lambda a: a["start_date"],
            )
            return 200, items[(page - 1) * per_page : page * per_page], headers
        if path.startswith("/api/v3/activities/"):
            activity = self.athletes.get(athlete, {}).get(int(path.rsplit("/", 1)[1]))
            if activity is None:
                return 404, {"message": "Record Not Found"}, headers
            return 200, activity, headers
        return 404, {"message": "Record Not Found"}, headers


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())
