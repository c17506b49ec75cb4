"""The gym's identity in the database and on the way in: the constraints refuse what the
service would, GET /api/v1/gym/ gives it to the mobile app (gym A's only), and the language a
gym's pages speak is the person's own, else their browser's choice, else the gym's."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from rest_framework.test import APIClient

from apps.tenants.middleware import GymLanguageMiddleware
from apps.tenants.models import Gym
from tests.crm.conftest import CrmGym, crm_a, crm_b  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("brand_colour", "red"),
        ("brand_colour", "#ABCDEF"),
        ("currency", "eur"),
        ("currency", "E1R"),
    ],
)
def test_the_database_refuses_a_bad_colour_or_currency(gym_a: Gym, field: str, value: str) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Gym.objects.filter(pk=gym_a.pk).update(**{field: value})


def test_the_gym_api_gives_the_identity_of_the_asking_gym_only(
    crm_a: CrmGym,  # noqa: F811
    crm_b: CrmGym,  # noqa: F811
) -> None:
    Gym.objects.filter(pk=crm_b.gym.pk).update(
        brand_colour="#123456", currency="GBP", logo_name="brand/x-logo.png", brand_version=7
    )
    api = APIClient(HTTP_HOST=crm_a.host)
    api.force_authenticate(crm_a.cara_user)
    body = api.get("/api/v1/gym/").json()
    assert body["brand_colour"] == "#0b6e4f"
    assert body["currency"] == "EUR"
    assert body["logo_url"] is None
    assert body["icon_url"] == "/brand/icon.png?v=1"
    assert body["unit_system"] == "metric"
    assert body["language"] == "en"


class TestGymLanguage:
    def request(self, gym: Gym, user=None, cookie: str = ""):  # type: ignore[no-untyped-def]
        from django.contrib.auth.models import AnonymousUser

        request = RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE="fr")
        request.tenant = gym
        request.user = user or AnonymousUser()
        if cookie:
            request.COOKIES["django_language"] = cookie
        return request

    def test_the_gyms_language_then_the_cookie_then_the_users(self, crm_a: CrmGym) -> None:  # noqa: F811
        gym = crm_a.gym
        gym.language = "de"
        assert GymLanguageMiddleware.language_for(self.request(gym)) == "de"
        assert GymLanguageMiddleware.language_for(self.request(gym, cookie="es")) == "es"
        assert GymLanguageMiddleware.language_for(self.request(gym, cookie="xx")) == "de"
        user = crm_a.manager
        user.language = "fr"
        assert GymLanguageMiddleware.language_for(self.request(gym, user, cookie="es")) == "fr"

    def test_the_public_host_is_left_to_locale_middleware(self) -> None:
        request = RequestFactory().get("/")
        request.tenant = None
        assert GymLanguageMiddleware.language_for(request) is None
        request.tenant = Gym(schema_name="public", language="de")
        assert GymLanguageMiddleware.language_for(request) is None

    def test_the_public_host_speaks_the_browsers_language(self, public_client) -> None:  # type: ignore[no-untyped-def]
        response = public_client.get("/signup/", HTTP_ACCEPT_LANGUAGE="de")
        assert response["Content-Language"] == "de"
