"""WebSocket authentication per gym.

The gym comes from the Host header, exactly as for HTTP (a deactivated gym's host serves
nothing); the session cookie is then read and the user loaded *inside that gym's schema*.
Consumers must run their own ORM calls inside `tenant_context(scope["tenant"])`:
database_sync_to_async shares one thread between consumers of every gym, so the connection's
schema is never to be trusted.

A browser sends the session cookie of a gym's host with a WebSocket opened by any page, a
sibling gym's included (same site: every gym is a subdomain of BASE_DOMAIN), so the page's
Origin must be the gym's own origin: same scheme, host and port as the connection.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from importlib import import_module
from typing import Any
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http.request import split_domain_port
from django_tenants.utils import remove_www, tenant_context

from apps.tenants.selectors import served_gym_for_host

_DEFAULT_PORTS = {"http": 80, "https": 443}


class _SessionCarrier:
    """The one attribute django.contrib.auth.get_user reads from a request."""

    def __init__(self, session: Any) -> None:
        self.session = session


def _host(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return remove_www(value.decode("latin1").split(":")[0])
    return ""


def _headers(scope: dict[str, Any], name: bytes) -> list[str]:
    return [value.decode("latin1") for key, value in scope.get("headers", []) if key == name]


def _is_secure(scope: dict[str, Any]) -> bool:
    """Whether the client's connection is TLS: to this server, or to the proxy that says so in
    SECURE_PROXY_SSL_HEADER (Django's rule for HTTP requests)."""
    if scope.get("scheme") == "wss":
        return True
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if not proxy_header:
        return False
    meta_name, secure_value = proxy_header
    # HTTP_X_FORWARDED_PROTO -> x-forwarded-proto; an underscore spelling is another header.
    name = meta_name.removeprefix("HTTP_").lower().replace("_", "-").encode("latin1")
    values = _headers(scope, name)
    return bool(values) and values[0].split(",", 1)[0].strip() == secure_value


def is_same_origin(scope: dict[str, Any]) -> bool:
    """Whether the handshake's Origin is the origin of the host it was sent to: the scheme the
    client connected with (https for wss), the Host header's host, and its port (the scheme's
    default when it names none). No Origin, several, or "null" is not the same origin."""
    origins, hosts = _headers(scope, b"origin"), _headers(scope, b"host")
    if len(origins) != 1 or len(hosts) != 1:
        return False
    scheme = "https" if _is_secure(scope) else "http"
    try:
        origin = urlsplit(origins[0])
        origin_port = origin.port or _DEFAULT_PORTS.get(origin.scheme)
    except ValueError:
        return False
    host, port = split_domain_port(hosts[0])
    if not host or not origin.hostname or origin.scheme != scheme:
        return False
    if origin.path or origin.query or origin.fragment or origin.username is not None:
        return False
    try:
        host_port = int(port) if port else _DEFAULT_PORTS[scheme]
    except ValueError:
        return False
    return origin.hostname.rstrip(".") == host and origin_port == host_port


def _cookies(scope: dict[str, Any]) -> dict[str, str]:
    cookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookie.load(value.decode("latin1"))
    return {key: morsel.value for key, morsel in cookie.items()}


def resolve_gym_and_user(host: str, session_key: str | None) -> tuple[Any, Any, Any]:
    """(gym, session, user) for a connection; gym is None when the host serves no gym."""
    connection.set_schema_to_public()
    gym = served_gym_for_host(host)
    if gym is None:
        return None, None, AnonymousUser()
    engine = import_module(settings.SESSION_ENGINE)
    with tenant_context(gym):
        session = engine.SessionStore(session_key)
        user = get_user(_SessionCarrier(session))  # type: ignore[arg-type]
        # Touch the lazy session inside the schema so nothing loads it later from elsewhere.
        session.load()
    return gym, session, user


class TenantAuthMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if not is_same_origin(scope):
            # Opened by a page of another origin (another gym's, or anyone's).
            await send({"type": "websocket.close", "code": 4403})
            return None
        session_key = _cookies(scope).get(settings.SESSION_COOKIE_NAME)
        gym, session, user = await database_sync_to_async(resolve_gym_and_user)(
            _host(scope), session_key
        )
        if gym is None:
            # Not a gym's host: nothing is served over WebSockets on the public host.
            await send({"type": "websocket.close", "code": 4404})
            return None
        scope = {**scope, "tenant": gym, "session": session, "user": user}
        return await self.inner(scope, receive, send)


def TenantAuthMiddlewareStack(inner: Any) -> TenantAuthMiddleware:  # noqa: N802 - Channels' naming
    return TenantAuthMiddleware(inner)
