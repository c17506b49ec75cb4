"""Sessions and signed-in users a web process keeps in memory (apps/accounts/sessions.py and
backends.py): reused only while no user or session changed, however and wherever it changed,
and never on another gym's host."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.accounts import backends, sessions
from apps.accounts.models import User
from apps.core import versions
from tests.conftest import PASSWORD, GymClient, make_user

ME = "/api/v1/me/"


@pytest.fixture
def remembered(settings):
    settings.AUTH_CACHE_ENTRIES = 64
    sessions.clear()
    backends.clear()
    yield
    sessions.clear()
    backends.clear()


@pytest.fixture
def tina(gym_a):
    with tenant_context(gym_a):
        return make_user("trainer", "tina@memory.example", first_name="Tina")


@pytest.fixture
def signed_in(client_a, tina):
    """Tina's browser on gym A's host, signed in with a session."""
    client_a.force_login(tina)
    assert client_a.get(ME).status_code == 200
    return client_a


def me(client: GymClient) -> tuple[int, list[str]]:
    """The status of GET /api/v1/me/ and the tables its queries read."""
    # Django's cache forgets the session: only the process's memory or the database has it.
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ME)
    return response, [q["sql"] for q in queries]


def test_a_request_seen_again_reads_no_session_or_user(remembered, signed_in):
    response, sql = me(signed_in)
    assert response.status_code == 200
    assert response.json()["email"] == "tina@memory.example"
    assert not [q for q in sql if "django_session" in q or "accounts_user" in q]
    # The session, the user and the permission checks share one read of the versions.
    assert sum("core_dataversion" in q for q in sql) == 1


def test_turned_off_it_reads_them_every_time(settings, signed_in):
    settings.AUTH_CACHE_ENTRIES = 0
    response, sql = me(signed_in)
    assert response.status_code == 200
    assert any("django_session" in q for q in sql)
    assert any("accounts_user" in q for q in sql)
    assert not any("core_dataversion" in q for q in sql)


@pytest.mark.parametrize("how", ["save", "queryset update", "raw sql"])
def test_a_deactivated_user_is_out_at_once(remembered, signed_in, gym_a, tina, how):
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
    response, _ = me(signed_in)
    assert response.status_code in (401, 403)


def test_a_changed_user_shows_at_once(remembered, signed_in, gym_a, tina):
    with tenant_context(gym_a):
        User.objects.filter(pk=tina.pk).update(first_name="Christina", role="front_desk")
    response, _ = me(signed_in)
    assert response.json()["first_name"] == "Christina"
    assert response.json()["role"] == "front_desk"


def test_a_new_password_ends_other_sessions(remembered, signed_in, gym_a, tina):
    with tenant_context(gym_a):
        tina.set_password("a brand new pass phrase")
        tina.save()
    response, _ = me(signed_in)
    assert response.status_code in (401, 403)


def test_a_session_ended_elsewhere_is_out_at_once(remembered, signed_in, gym_a):
    # As a logout in another web process does: the session's row goes.
    with tenant_context(gym_a):
        Session.objects.all().delete()
    response, _ = me(signed_in)
    assert response.status_code in (401, 403)


def test_logging_out_ends_the_session(remembered, signed_in):
    signed_in.post("/accounts/logout/")
    response, _ = me(signed_in)
    assert response.status_code in (401, 403)


def test_a_real_login_then_requests(remembered, gym_a, tina):
    client = GymClient(gym_a.subdomain)
    response = client.post("/accounts/login/", {"login": tina.email, "password": PASSWORD})
    assert response.status_code == 302
    for _ in range(3):
        response, _sql = me(client)
        assert response.json()["email"] == tina.email


def test_another_gym_never_gets_the_session(remembered, signed_in, gym_b):
    # The same cookie sent to gym B's host: the schema is part of every key.
    cookie = signed_in.cookies["sessionid"].value
    other = GymClient(gym_b.subdomain)
    other.cookies["sessionid"] = cookie
    cache.clear()
    assert other.get(ME).status_code in (401, 403)
    assert signed_in.get(ME).status_code == 200


def test_each_request_gets_its_own_user(remembered, gym_a, tina):
    backend = backends.ModelBackend()
    with tenant_context(gym_a):
        first = backend.get_user(tina.pk)
        first.first_name = "Changed in memory only"
        second = backend.get_user(tina.pk)
        assert second is not first
        assert second.first_name == "Tina"
        # Users of the other gym with the same id are other people.
        assert second.email == "tina@memory.example"


def test_the_auth_version_grows_with_writes_and_not_with_reads(gym_a, tina):
    with tenant_context(gym_a):
        before = versions.current(versions.AUTH)
        list(User.objects.all())
        assert versions.current(versions.AUTH) == before
        User.objects.filter(pk=tina.pk).update(first_name="Tee")
        middle = versions.current(versions.AUTH)
        assert middle > before

        def write_then_fail() -> None:
            with transaction.atomic():
                Session.objects.create(
                    session_key="x" * 32, session_data="", expire_date="2030-01-01T00:00Z"
                )
                raise RuntimeError

        with pytest.raises(RuntimeError):
            write_then_fail()
        assert versions.current(versions.AUTH) == middle


def test_public_schema_has_its_own_auth_version(db):
    # Platform operators' users and sessions live in public, with their own version.
    assert versions.current(versions.AUTH) >= 0
    with pytest.raises(KeyError):
        versions.current(versions.CRM_LIST)


def test_memory_keeps_so_many_for_so_long(settings, monkeypatch):
    settings.AUTH_CACHE_ENTRIES = 2
    settings.AUTH_CACHE_SECONDS = 10
    memory: versions.Memory[bytes] = versions.Memory(
        versions.AUTH, "AUTH_CACHE_ENTRIES", "AUTH_CACHE_SECONDS"
    )
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    memory.put(("a",), b"1")
    memory.put(("b",), b"2")
    assert memory.get(("a",)) == b"1"  # now the most recently used
    memory.put(("c",), b"3")
    assert memory.get(("b",)) is None
    assert memory.get(("a",)) == b"1"
    assert memory.get(("c",)) == b"3"
    # Ten seconds at most, or the value's own lifetime when that is shorter.
    memory.clear()
    memory.put(("long",), b"1")
    memory.put(("short",), b"2", seconds=2)
    now[0] += 3
    assert memory.get(("short",)) is None
    assert memory.get(("long",)) == b"1"
    now[0] += 8
    assert memory.get(("long",)) is None


def test_the_session_hash_is_djangos_for_the_password_and_secret_of_the_moment(settings):
    from django.contrib.auth.base_user import AbstractBaseUser

    user = User(email="hash@example.com")
    user.set_password("first pass phrase")
    made = user.get_session_auth_hash()
    assert made == AbstractBaseUser.get_session_auth_hash(user)
    assert user.get_session_auth_hash() == made
    user.set_password("second pass phrase")
    assert user.get_session_auth_hash() != made
    assert user.get_session_auth_hash() == AbstractBaseUser.get_session_auth_hash(user)
    before_rotation = user.get_session_auth_hash()
    settings.SECRET_KEY = "another secret key " * 3
    assert user.get_session_auth_hash() != before_rotation
    assert user.get_session_auth_hash() == AbstractBaseUser.get_session_auth_hash(user)
