from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def gym(request: HttpRequest) -> dict[str, Any]:
    """The current gym (None on the public host) for every template."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == "public":
        tenant = None
    return {"current_gym": tenant, "base_domain": settings.BASE_DOMAIN}
