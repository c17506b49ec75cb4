"""DRF's session authentication, as DRF ships it but for the 401 it names a scheme for
(apps/core/api/authentication.py)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.accounts.models import User
from apps.core.api.authentication import SessionAuthentication


def drf_request(user) -> Request:  # type: ignore[no-untyped-def]
    django_request = APIRequestFactory().get("/api/v1/clients/")
    django_request.user = SimpleLazyObject(lambda: user)
    return Request(django_request, authenticators=[SessionAuthentication()])


def test_the_signed_in_user_is_authenticated():
    user = User(email="someone@example.com", is_active=True)
    request = drf_request(user)
    assert request.user.is_authenticated
    assert request.user.email == "someone@example.com"


def test_anonymous_and_inactive_users_are_not_authenticated():
    for user in (AnonymousUser(), User(email="gone@example.com", is_active=False)):
        request = drf_request(user)
        assert not request.user.is_authenticated
