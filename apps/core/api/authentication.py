"""DRF's session authentication, answering a request without credentials with 401."""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's SessionAuthentication, naming a scheme for WWW-Authenticate."""

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
