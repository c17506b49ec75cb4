"""Signed-in sessions (Django's cached_db, keys by gym): a change to the user, a new password
or a logout shows on the very next request, and a session never works on another gym's host."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import connection
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from tests.conftest import PASSWORD, GymClient, make_user

ME = "/api/v1/me/"


@pytest.fixture
def tina(gym_a):
    with tenant_context(gym_a):
        return make_user("trainer", "tina@sessions.example", first_name="Tina")


@pytest.fixture
def signed_in(client_a, tina):
    """Tina's browser on gym A's host, signed in with a session."""
    client_a.force_login(tina)
    assert client_a.get(ME).status_code == 200
    return client_a


@pytest.mark.parametrize("how", ["save", "queryset update", "raw sql"])
def test_a_deactivated_user_is_out_at_once(signed_in, gym_a, tina, how):
    with tenant_context(gym_a):
        if how == "save":
            tina.is_active = False
            tina.save(update_fields=["is_active"])
        elif how == "queryset update":
            User.objects.filter(pk=tina.pk).update(is_active=False)
        else:
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE accounts_user SET is_active = false WHERE id = %s", [tina.pk]
                )
    assert signed_in.get(ME).status_code in (401, 403)


def test_a_changed_user_shows_at_once(signed_in, gym_a, tina):
    with tenant_context(gym_a):
        User.objects.filter(pk=tina.pk).update(first_name="Christina", role="front_desk")
    response = signed_in.get(ME)
    assert response.json()["first_name"] == "Christina"
    assert response.json()["role"] == "front_desk"


def test_a_new_password_ends_other_sessions(signed_in, gym_a, tina):
    with tenant_context(gym_a):
        tina.set_password("a brand new pass phrase")
        tina.save()
    assert signed_in.get(ME).status_code in (401, 403)


def test_a_session_ended_elsewhere_is_out_at_once(signed_in, gym_a):
    # As a logout in another web process does: the session goes from the cache and the table.
    with tenant_context(gym_a):
        SessionStore(session_key=signed_in.cookies["sessionid"].value).delete()
    assert signed_in.get(ME).status_code in (401, 403)


def test_logging_out_ends_the_session(signed_in):
    signed_in.post("/accounts/logout/")
    assert signed_in.get(ME).status_code in (401, 403)


def test_a_real_login_then_requests(gym_a, tina):
    client = GymClient(gym_a.subdomain)
    response = client.post("/accounts/login/", {"login": tina.email, "password": PASSWORD})
    assert response.status_code == 302
    for _ in range(3):
        assert client.get(ME).json()["email"] == tina.email


def test_another_gym_never_gets_the_session(signed_in, gym_b):
    # The same cookie sent to gym B's host: the cache key and the table are gym A's.
    cookie = signed_in.cookies["sessionid"].value
    other = GymClient(gym_b.subdomain)
    other.cookies["sessionid"] = cookie
    assert other.get(ME).status_code in (401, 403)
    assert signed_in.get(ME).status_code == 200
