"""Response headers Django has no setting for.

Django's SecurityMiddleware already sends Strict-Transport-Security, X-Content-Type-Options,
Referrer-Policy and Cross-Origin-Opener-Policy (from the SECURE_* settings) on every response it
sees, XFrameOptionsMiddleware sends X-Frame-Options and django-csp the Content-Security-Policy.
What is left is Permissions-Policy.

CSPMiddleware is django-csp's, with the policy of a response that changes nothing built once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase


def permissions_policy_header(policy: Mapping[str, Sequence[str]]) -> str:
    """Serialise `{"camera": [], "fullscreen": ["self"]}` as `camera=(), fullscreen=(self)`.

    The header is a structured-field dictionary: `self` and `*` are tokens, origins are quoted.
    """
    parts = []
    for feature, allowlist in policy.items():
        members = [item if item in ("self", "*") else f'"{item}"' for item in allowlist]
        parts.append(f"{feature}=({' '.join(members)})")
    return ", ".join(parts)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.permissions_policy = permissions_policy_header(
            getattr(settings, "PERMISSIONS_POLICY", {})
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # setdefault: a view that needs a feature (say, a camera for a QR check-in) can send
        # its own, wider policy.
        if self.permissions_policy:
            response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        return response


# What django-csp's decorators set on a response to change or drop its policy.
_PER_RESPONSE = tuple(
    f"_csp_{name}{suffix}"
    for name in ("config", "update", "replace", "exempt")
    for suffix in ("", "_ro")
)
# The settings' own policies, enforced (False) and report-only (True), as header values.
_policies: dict[bool, str] = {}


@receiver(setting_changed)
def _forget_policies(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _policies.clear()


class CSPMiddleware(DjangoCSPMiddleware):
    """django-csp's middleware. A response that uses no nonce and no per-view policy (every
    API response, most pages) gets the settings' policies built once per process: django-csp
    copies the configuration and builds both headers for every response, about 40
    microseconds a request. Anything else goes through django-csp unchanged.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _PER_RESPONSE)
            or (settings.DEBUG and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)
        for header, report_only in ((HEADER, False), (HEADER_REPORT_ONLY, True)):
            policy = _policies.get(report_only)
            if policy is None:
                policy = _policies[report_only] = build_policy(report_only=report_only)
            if not policy or header in response:
                continue
            setting = "CONTENT_SECURITY_POLICY" + ("_REPORT_ONLY" if report_only else "")
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES")
            if not request.path_info.startswith(tuple(prefixes or ())):
                response[header] = policy
        # As django-csp: the nonce cannot be used once the header is written.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
