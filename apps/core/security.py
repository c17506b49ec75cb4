"""Response headers Django has no setting for.

Django's SecurityMiddleware already sends Strict-Transport-Security, X-Content-Type-Options,
Referrer-Policy and Cross-Origin-Opener-Policy (from the SECURE_* settings) on every response it
sees, XFrameOptionsMiddleware sends X-Frame-Options and django-csp the Content-Security-Policy.
What is left is Permissions-Policy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse


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
