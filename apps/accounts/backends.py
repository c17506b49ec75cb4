"""Django's and allauth's authentication backends, unchanged, under the dotted paths that
settings.AUTHENTICATION_BACKENDS names: a session records the path of the backend that signed
it in, and Django ends a session whose backend is no longer listed."""

from __future__ import annotations

from allauth.account import auth_backends
from django.contrib.auth import backends


class ModelBackend(backends.ModelBackend):
    """Django's ModelBackend (staff sign-in by email and password)."""


class AuthenticationBackend(auth_backends.AuthenticationBackend):
    """allauth's backend (sign-in, MFA, headless)."""
