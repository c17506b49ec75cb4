"""WebSocket authentication per gym.

The gym comes from the Host header, exactly as for HTTP; the session cookie is then read and the
user loaded *inside that gym's schema*. Consumers must run their own ORM calls inside
`tenant_context(scope["tenant"])`: database_sync_to_async shares one thread between consumers of
every gym, so the connection's schema is never to be trusted.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django_tenants.utils import get_tenant_domain_model, remove_www, tenant_context


class _SessionCarrier:
    """The one attribute django.contrib.auth.get_user reads from a request."""

    def __init__(self, session: Any) -> None:
        self.session = session


def _host(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return remove_www(value.decode("latin1").split(":")[0])
    return ""


def _cookies(scope: dict[str, Any]) -> dict[str, str]:
    cookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookie.load(value.decode("latin1"))
    return {key: morsel.value for key, morsel in cookie.items()}


def resolve_gym_and_user(host: str, session_key: str | None) -> tuple[Any, Any, Any]:
    """(gym, session, user) for a connection; gym is None when the host is not a gym."""
    connection.set_schema_to_public()
    domain = get_tenant_domain_model().objects.select_related("tenant").filter(domain=host).first()
    if domain is None:
        return None, None, AnonymousUser()
    gym = domain.tenant
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
