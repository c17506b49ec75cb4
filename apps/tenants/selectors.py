from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name

from apps.tenants.models import Domain, Gym


def gym_list() -> QuerySet[Gym]:
    """Every real gym: neither the public schema nor the template."""
    return Gym.objects.exclude(
        schema_name__in=[get_public_schema_name(), settings.TENANT_BASE_SCHEMA]
    )


def subdomain_is_taken(*, subdomain: str) -> bool:
    host = f"{subdomain}.{settings.BASE_DOMAIN}"
    return (
        Gym.objects.filter(subdomain=subdomain).exists()
        or Domain.objects.filter(domain=host).exists()
    )


def gym_url(
    *, gym: Gym, path: str = "/", port: str | None = None, scheme: str | None = None
) -> str:
    """Absolute URL on the gym's own host. `port` keeps a non-default port (local development)."""
    scheme = scheme or settings.URL_SCHEME
    port = settings.PUBLIC_PORT if port is None else port
    netloc = gym.host if not port else f"{gym.host}:{port}"
    return f"{scheme}://{netloc}{path}"


def gym_url_for_request(*, gym: Gym, request: HttpRequest, path: str = "/") -> str:
    """The gym's URL as seen by the client of `request` (same scheme, same non-default port)."""
    port = request.get_port()
    default_port = "443" if request.is_secure() else "80"
    return gym_url(
        gym=gym, path=path, port="" if port == default_port else port, scheme=request.scheme
    )


def current_gym() -> Gym:
    """The gym whose schema the connection is in (schema_context leaves only a stand-in)."""
    from django.db import connection

    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Gym):
        return tenant
    return Gym.objects.get(schema_name=connection.schema_name)
