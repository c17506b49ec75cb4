from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
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
    netloc = gym.host if not port else f"{gym.host}:{port}"
    return f"{scheme}://{netloc}{path}"
