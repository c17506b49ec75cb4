from __future__ import annotations

import copy
import time
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest
from django_tenants.middleware.main import TenantMainMiddleware

from apps.tenants.models import Domain, Gym
from apps.tenants.selectors import gym_is_served

# hostname -> (monotonic expiry, gym). Per process; read and written under the GIL.
_gyms_by_host: dict[str, tuple[float, Gym]] = {}
_MAX_HOSTS = 1024


def clear_gym_cache(**_kwargs: Any) -> None:
    """Forget every remembered gym (a gym or a domain changed in this process)."""
    _gyms_by_host.clear()


class GymTenantMiddleware(TenantMainMiddleware):
    """Routes `<gym>.<BASE_DOMAIN>` to that gym's schema.

    An unknown subdomain of BASE_DOMAIN is a 404 (a mistyped gym address must not look like the
    platform); any other host (BASE_DOMAIN itself, an IP a health probe uses) is the public site.
    Every host of a deactivated gym is a 404 too, on every path.

    A process remembers the gym behind a host for TENANT_CACHE_SECONDS, so a request usually
    needs no query to find its gym. A change to a gym or a domain clears the memory of the
    process that made it at once, and of the other processes within those seconds. Unknown
    hosts are never remembered: a gym signed up a moment ago answers at once.
    """

    def get_tenant(self, domain_model: type[Domain], hostname: str) -> Gym:
        gym = self._get_tenant(domain_model, hostname)
        if not gym_is_served(gym):
            # A deactivated gym answers as a host with no gym would, whatever the host.
            raise Http404(f"No gym at {hostname}")
        return gym

    def _get_tenant(self, domain_model: type[Domain], hostname: str) -> Gym:
        seconds = settings.TENANT_CACHE_SECONDS
        if seconds <= 0:
            return super().get_tenant(domain_model, hostname)
        now = time.monotonic()
        cached = _gyms_by_host.get(hostname)
        if cached is None or cached[0] <= now:
            gym = super().get_tenant(domain_model, hostname)
            if len(_gyms_by_host) >= _MAX_HOSTS:
                _gyms_by_host.clear()
            cached = _gyms_by_host[hostname] = (now + seconds, gym)
        # A copy per request: the middleware and views set attributes on request.tenant.
        return copy.copy(cached[1])

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> None:
        if hostname.endswith(f".{settings.BASE_DOMAIN}"):
            raise Http404(f"No gym at {hostname}")
        self.setup_url_routing(request=request, force_public=True)
