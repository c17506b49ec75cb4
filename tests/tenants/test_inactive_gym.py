"""A deactivated gym answers nothing on any of its hosts: pages, API, health, WebSockets, as a
host with no gym; periodic work skips it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.core.fanout import fan_out
from apps.tenants.models import Domain, Gym
from apps.tenants.selectors import active_gym_list, gym_list
from fitnesscrm.celery import app
from tests.conftest import ALPHA, BRAVO, PASSWORD, login
from tests.core.test_websockets import connect

pytestmark = pytest.mark.django_db

PATHS = ["/", "/accounts/login/", "/portal/", "/api/v1/me/", "/api/v1/schema/", "/health/live"]


def deactivate(gym: Gym) -> None:
    gym.is_active = False
    gym.save(update_fields=["is_active"])


def test_every_path_of_a_deactivated_gym_is_a_404_like_an_unknown_host(gym_a):
    client = Client(HTTP_HOST=ALPHA.host)
    # Seen active first: the change shows on the next request.
    assert client.get("/health/live").status_code == 200
    deactivate(gym_a)

    unknown = Client(HTTP_HOST="nogym.localhost")
    for path in PATHS:
        response, expected = client.get(path), unknown.get(path)
        assert (response.status_code, expected.status_code) == (404, 404), path
        assert response["Content-Type"] == expected["Content-Type"]
    assert client.post("/accounts/login/", {"login": ALPHA.owner_email}).status_code == 404


def test_a_deactivated_gyms_api_and_headless_login_answer_nothing(gym_a):
    deactivate(gym_a)
    api = APIClient(HTTP_HOST=ALPHA.host)
    response = api.post(
        "/_allauth/app/v1/auth/login",
        {"email": ALPHA.owner_email, "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 404
    assert "session_token" not in response.content.decode()
    assert api.get("/api/v1/clients/").status_code == 404


def test_a_session_from_before_the_deactivation_is_useless(gym_a):
    client = Client(HTTP_HOST=ALPHA.host)
    login(client, ALPHA.owner_email)
    assert client.get("/api/v1/me/").status_code == 200
    session = client.cookies["sessionid"].value
    assert connect(ALPHA.host, session)[0] is True

    deactivate(gym_a)
    assert client.get("/api/v1/me/").status_code == 404
    assert client.get("/").status_code == 404
    assert connect(ALPHA.host, session)[:2] == (False, 4404)


def test_other_gyms_and_the_deactivated_gyms_data_are_untouched(gym_a):
    deactivate(gym_a)
    assert Client(HTTP_HOST=BRAVO.host).get("/health/live").status_code == 200
    assert Client(HTTP_HOST="localhost").get("/health/live").status_code == 200
    with tenant_context(gym_a):
        assert User.objects.filter(email=ALPHA.owner_email).exists()
    assert Domain.objects.filter(tenant=gym_a).exists()

    # Still migrated with every other gym; only periodic work skips it.
    assert gym_list().filter(pk=gym_a.pk).exists()
    assert not active_gym_list().filter(pk=gym_a.pk).exists()

    gym_a.is_active = True
    gym_a.save(update_fields=["is_active"])
    assert Client(HTTP_HOST=ALPHA.host).get("/health/live").status_code == 200


def test_fan_out_skips_a_deactivated_gym(gym_a, gym_b, settings):
    deactivate(gym_b)
    results: list[str] = []

    @app.task(name="tests.record_schema_inactive")
    def record_schema() -> None:
        results.append(connection.schema_name)

    app.conf.task_always_eager = True
    try:
        sent = fan_out("tests.record_schema_inactive")
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
    assert gym_a.schema_name in results
    assert gym_b.schema_name not in results
    assert sent == len(results)
