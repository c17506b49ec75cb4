"""A seeded gym for the API tests: gym alpha gets a small demo business (trainers, clients,
timetable, plans, workout history, measurements) and one login per role, once per module,
inside a transaction that is rolled back when the module ends. Each test runs in a savepoint
of its own (pytest-django), so whatever one test's requests change is gone for the next."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient
from werkzeug.test import Client as WsgiClient

from apps.accounts.models import Role, User
from apps.crm import services as crm_services
from apps.crm.demo import link_demo_client_login, seed_business
from apps.scheduling.demo import seed_schedule
from apps.tenants.models import Gym
from apps.training.demo import seed_measurements, seed_training
from tests.conftest import ALPHA, PASSWORD, make_user

BASE_URL = f"http://{ALPHA.host}"
SCHEMA_PATH = "/api/v1/schema/"

# The demo seeds give the trainer and client logins with these addresses their own trainer
# profile (with assigned clients) and client record.
ROLE_EMAILS = {
    Role.OWNER: ALPHA.owner_email,
    Role.MANAGER: "manager@demo.example",
    Role.TRAINER: "trainer@demo.example",
    Role.FRONT_DESK: "desk@demo.example",
    Role.CLIENT: "client@demo.example",
}


@dataclass(frozen=True)
class SeededGym:
    gym: Gym
    # Per role: the headers that sign a request in (an app session token).
    credentials: dict[str, dict[str, str]]
    # Per role and collection path: ids of objects the role sees in the list.
    known_ids: dict[str, dict[str, list[int]]]
    # A WSGI test client signed in as the role, on the gym's host.
    http: Callable[[str], WsgiClient]


def _seed(owner: User) -> None:
    for role, email in ROLE_EMAILS.items():
        if role != Role.OWNER:
            make_user(role, email)
    seed_business(owner=owner, trainers=3, clients=16, leads=3)
    link_demo_client_login(user=User.objects.get(email=ROLE_EMAILS[Role.CLIENT]))
    seed_schedule(owner=owner)
    seed_training(owner=owner)
    seed_measurements(owner=owner)
    # What the probe found answers with: a client with no email address.
    crm_services.client_create(actor=owner, first_name="No", last_name="Email")


def _list_paths(http: WsgiClient) -> list[str]:
    answer = http.get(SCHEMA_PATH, query_string={"format": "json"})
    assert answer.status_code == 200, answer.get_data()[:300]
    return [
        path
        for path, operations in answer.json["paths"].items()
        if "{" not in path and "get" in operations
    ]


def _known_ids(http: WsgiClient, list_paths: list[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for path in list_paths:
        response = http.get(path)
        if response.status_code != 200:
            continue
        body = response.json
        rows = body.get("results", []) if isinstance(body, dict) else body
        ids = [row["id"] for row in rows if isinstance(row, dict) and "id" in row]
        if ids:
            found[path] = ids
    return found


@pytest.fixture(scope="module")
def seeded_gym(django_db_setup, django_db_blocker) -> Iterator[SeededGym]:
    with django_db_blocker.unblock():
        # Throttle counters the tests before this module left: the logins below must not
        # meet them.
        cache.clear()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            gym = Gym.objects.get(subdomain=ALPHA.subdomain)
            with tenant_context(gym):
                _seed(User.objects.get(email=ALPHA.owner_email))
                users = {role: User.objects.get(email=email) for role, email in ROLE_EMAILS.items()}
            # Each role signs in as a mobile app does: Schemathesis knows the X-Session-Token
            # header as the API's security scheme, so its check that the API refuses a request
            # without it (401) applies.
            credentials = {}
            for role, user in users.items():
                response = APIClient(HTTP_HOST=ALPHA.host).post(
                    "/_allauth/app/v1/auth/login",
                    {"email": user.email, "password": PASSWORD},
                    format="json",
                )
                assert response.status_code == 200, response.content
                credentials[str(role)] = {
                    "X-Session-Token": response.json()["meta"]["session_token"]
                }
            # From here on requests go through Django's WSGI handler in this thread, inside the
            # transaction: it must not close the connection around each one (Django's own test
            # client disconnects the same receivers, and connects them again after a request).
            request_started.disconnect(close_old_connections)
            request_finished.disconnect(close_old_connections)
            app = WSGIHandler()

            def http(role: str) -> WsgiClient:
                client = WsgiClient(app)
                client.open = _with_defaults(client.open, credentials[role])  # type: ignore[method-assign]
                return client

            list_paths = _list_paths(http(str(Role.OWNER)))
            known_ids = {role: _known_ids(http(role), list_paths) for role in credentials}
            connection.set_schema_to_public()
            yield SeededGym(gym=gym, credentials=credentials, known_ids=known_ids, http=http)
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _with_defaults(open_: Callable[..., Any], headers: dict[str, str]) -> Callable[..., Any]:
    """The gym's host and the role's credentials on every request."""

    def opened(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", BASE_URL)
        kwargs["headers"] = {**headers, **(kwargs.get("headers") or {})}
        return open_(*args, **kwargs)

    return opened


def pytest_terminal_summary(terminalreporter: Any) -> None:
    module = sys.modules.get("tests.api.test_schemathesis")
    STATS = getattr(module, "STATS", None)  # noqa: N806
    if not STATS:
        return
    terminalreporter.section("schemathesis")
    for role, stats in STATS.items():
        statuses = ", ".join(
            f"{key.split()[1]}: {count}"
            for key, count in sorted(stats.items())
            if key.startswith("status ")
        )
        terminalreporter.write_line(
            f"{role}: {len(stats['_seen'])} operations, {stats['requests']} requests, "
            f"{stats['milliseconds'] / 1000:.1f} s in requests ({statuses}); "
            f"{stats['not sent']} cases not sent (a form cannot hold them), "
            f"{stats['padded strings accepted']} too long only by padding"
        )
