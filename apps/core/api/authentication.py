"""DRF's session authentication, handing on the signed-in user itself."""

from __future__ import annotations

from typing import Any

from django.utils.functional import SimpleLazyObject, empty
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's SessionAuthentication, but the user it hands on is the user itself, not Django's
    lazy wrapper around it (AuthenticationMiddleware's request.user, already evaluated here).
    DRF sets it back on the Django request, so every `request.user.<attribute>` the view, its
    permissions, throttles and the middleware below read is an attribute lookup rather than a
    trip through the wrapper's proxy methods."""

    def authenticate(self, request: Any) -> tuple[Any, None] | None:
        found = super().authenticate(request)
        if found is None:
            return None
        user, auth = found
        # Evaluated by the is_active check DRF makes first.
        if isinstance(user, SimpleLazyObject) and user._wrapped is not empty:
            user = user._wrapped
        return user, auth

    def authenticate_header(self, request: Any) -> str:
        # DRF answers a request without credentials with 401 only when the first
        # authenticator names a scheme for WWW-Authenticate (else 403, which means "signed in
        # but not allowed"). The realm is the API; a client signs in through allauth
        # (session cookie) or sends an app session token in X-Session-Token.
        return 'Session realm="api"'


class SessionAuthenticationScheme(SessionScheme):
    """The OpenAPI schema describes it as drf-spectacular describes DRF's own (a session
    cookie): its extensions match a class, not its subclasses."""

    target_class = SessionAuthentication
