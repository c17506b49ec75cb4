"""The gym's identity as files: its stylesheet (the brand colour as CSS custom properties, so no
page needs an inline style), its logo and square icon, and /favicon.ico.

Each is read from the gym of the host that asks (request.tenant) and its own storage prefix:
one gym's host can never serve another's logo, whatever name is asked for, because no name is
taken from the request at all. Versioned URLs (`?v=<brand_version>`) are cached for a year;
anything else for five minutes, so a changed logo shows soon even on an old link.
"""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from django_tenants.utils import get_public_schema_name

from apps.tenants.models import DEFAULT_BRAND_COLOUR, Gym

YEAR = 365 * 24 * 3600
SHORT = 300
DEFAULT_ICON = "portal/icon-192.png"


def _gym(request: HttpRequest) -> Gym | None:
    """The gym of the host, or None on the public host (the platform's own look)."""
    tenant = getattr(request, "tenant", None)
    if not isinstance(tenant, Gym) or tenant.schema_name == get_public_schema_name():
        return None
    return tenant


def _cache(response: HttpResponse, request: HttpRequest, gym: Gym | None) -> HttpResponse:
    versioned = gym is not None and request.GET.get("v") == str(gym.brand_version)
    response["Cache-Control"] = (
        f"public, max-age={YEAR}, immutable" if versioned else f"public, max-age={SHORT}"
    )
    return response


def _stored_png(name: str) -> bytes | None:
    if not name:
        return None
    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, OSError):
        return None


def _default_icon() -> bytes:
    path = finders.find(DEFAULT_ICON)
    if not path:  # pragma: no cover - the file ships with the code
        raise Http404
    with open(path, "rb") as handle:
        return handle.read()


@require_GET
def stylesheet(request: HttpRequest) -> HttpResponse:
    gym = _gym(request)
    colour = gym.brand_colour if gym else DEFAULT_BRAND_COLOUR
    # Validated as #rrggbb when saved (and by a database constraint): safe to write as is.
    body = f":root{{--brand:{colour};--accent:{colour}}}\n"
    return _cache(HttpResponse(body, content_type="text/css; charset=utf-8"), request, gym)


@require_GET
def logo(request: HttpRequest) -> HttpResponse:
    gym = _gym(request)
    content = _stored_png(gym.logo_name) if gym else None
    if content is None:
        raise Http404
    return _cache(HttpResponse(content, content_type="image/png"), request, gym)


@require_GET
def icon(request: HttpRequest) -> HttpResponse:
    """The gym's square icon, or the app's own when it has no logo."""
    gym = _gym(request)
    content = (_stored_png(gym.icon_name) if gym else None) or _default_icon()
    return _cache(HttpResponse(content, content_type="image/png"), request, gym)


favicon = icon
