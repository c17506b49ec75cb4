from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest
from django_tenants.middleware.main import TenantMainMiddleware

from apps.tenants.models import Domain, Gym
from apps.tenants.selectors import gym_is_served


class GymTenantMiddleware(TenantMainMiddleware):
    """Routes `<gym>.<BASE_DOMAIN>` to that gym's schema.

    An unknown subdomain of BASE_DOMAIN is a 404 (a mistyped gym address must not look like the
    platform); any other host (BASE_DOMAIN itself, an IP a health probe uses) is the public site.
    Every host of a deactivated gym is a 404 too, on every path.
    """

    def get_tenant(self, domain_model: type[Domain], hostname: str) -> Gym:
        gym = super().get_tenant(domain_model, hostname)
        if not gym_is_served(gym):
            # A deactivated gym answers as a host with no gym would, whatever the host.
            raise Http404(f"No gym at {hostname}")
        return gym

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> None:
        if hostname.endswith(f".{settings.BASE_DOMAIN}"):
            raise Http404(f"No gym at {hostname}")
        self.setup_url_routing(request=request, force_public=True)
