from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name

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


class GymLanguageMiddleware:
    """The language of a gym's pages: the signed-in person's own choice (User.language), else
    the one picked on this browser (Django's language cookie), else the gym's. A browser's
    Accept-Language is not asked on a gym's host: the gym speaks its language to everyone who
    has not chosen another. The public host keeps LocaleMiddleware's choice.

    After AuthenticationMiddleware (it reads the user); LocaleMiddleware still sets the
    Content-Language header from whatever is active when the response leaves."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self.language_for(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)

    @staticmethod
    def language_for(request: HttpRequest) -> str | None:
        gym = getattr(request, "tenant", None)
        if not isinstance(gym, Gym) or gym.schema_name == get_public_schema_name():
            return None
        supported = dict(settings.LANGUAGES)
        user = getattr(request, "user", None)
        own = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        for candidate in (own, cookie, gym.language):
            if candidate in supported:
                return candidate
        return None
