from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest
from django_tenants.middleware.main import TenantMainMiddleware


class GymTenantMiddleware(TenantMainMiddleware):
    """Routes `<gym>.<BASE_DOMAIN>` to that gym's schema.

    An unknown subdomain of BASE_DOMAIN is a 404 (a mistyped gym address must not look like the
    platform); any other host (BASE_DOMAIN itself, an IP a health probe uses) is the public site.
    """

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> None:
        if hostname.endswith(f".{settings.BASE_DOMAIN}"):
            raise Http404(f"No gym at {hostname}")
        self.setup_url_routing(request=request, force_public=True)
