"""Mobile apps: allauth headless app sessions, and the X-Session-Token on the REST API."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.conftest import ALPHA, BRAVO, PASSWORD

pytestmark = pytest.mark.django_db


def app_login(host: str, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return APIClient(HTTP_HOST=host).post(
        "/_allauth/app/v1/auth/login", {"email": email, "password": password}, format="json"
    )


def test_app_login_session_and_logout(gym_a):
    response = app_login(ALPHA.host, ALPHA.owner_email)
    assert response.status_code == 200, response.content
    token = response.json()["meta"]["session_token"]

    api = APIClient(HTTP_HOST=ALPHA.host, HTTP_X_SESSION_TOKEN=token)
    session = api.get("/_allauth/app/v1/auth/session")
    assert session.status_code == 200
    assert session.json()["data"]["user"]["email"] == ALPHA.owner_email

    me = api.get("/api/v1/me/")
    assert me.status_code == 200, me.content
    body = me.json()
    assert body["email"] == ALPHA.owner_email
    assert body["role"] == "owner"
    assert body["gym"]["subdomain"] == "alpha"

    assert api.delete("/_allauth/app/v1/auth/session").status_code == 401  # logged out
    assert api.get("/api/v1/me/").status_code in (401, 403)


def test_wrong_password_is_a_clear_error(gym_a):
    response = app_login(ALPHA.host, ALPHA.owner_email, "not the password at all")
    assert response.status_code == 400
    assert response.json()["errors"][0]["param"] == "password"


def test_session_token_of_gym_a_is_useless_on_gym_b(gym_a):
    token = app_login(ALPHA.host, ALPHA.owner_email).json()["meta"]["session_token"]
    intruder = APIClient(HTTP_HOST=BRAVO.host, HTTP_X_SESSION_TOKEN=token)
    assert intruder.get("/api/v1/me/").status_code in (401, 403)
    # allauth answers 410 Gone for a session token it does not know.
    assert intruder.get("/_allauth/app/v1/auth/session").status_code in (401, 410)


def test_tampered_token_is_refused(gym_a):
    token = app_login(ALPHA.host, ALPHA.owner_email).json()["meta"]["session_token"]
    api = APIClient(HTTP_HOST=ALPHA.host, HTTP_X_SESSION_TOKEN=token[:-3] + "abc")
    assert api.get("/api/v1/me/").status_code in (401, 403)


def test_me_can_update_own_profile_but_not_role(api_client_a, owner_a):
    api_client_a.force_authenticate(owner_a)
    response = api_client_a.patch(
        "/api/v1/me/", {"first_name": "Olga", "role": "client"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["first_name"] == "Olga"
    assert response.json()["role"] == "owner"


def test_anonymous_api_gets_401_problem(db):
    response = APIClient(HTTP_HOST=ALPHA.host).get("/api/v1/me/")
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/problem+json"
