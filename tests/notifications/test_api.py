"""The notifications API for the mobile apps: the viewer's own notifications with cursor
pagination, the unread count, mark one or all read, choices per kind and channel with quiet
hours, web push subscriptions; bounded queries; gym A's credentials reach nothing of gym B."""

from __future__ import annotations

from datetime import time

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.notifications import selectors
from apps.notifications.models import Notification, PushSubscription
from tests.conftest import GymClient

pytestmark = pytest.mark.django_db

BASE = "/api/v1/notifications/"
PUSH = "/api/v1/notifications/push-subscriptions/"
# A browser's subscription: a push service's address, a 65-byte key and a 16-byte secret.
P256DH = "B" + "A" * 86
AUTH = "A" * 22


def notes(crm, role: str, count: int, *, title: str = "Hello") -> list[int]:  # type: ignore[no-untyped-def]
    with tenant_context(crm.gym):
        user = crm.user(role)
        ids = [
            Notification.objects.create(recipient=user, kind="test", title=f"{title} {n}").pk
            for n in range(count)
        ]
    connection.set_schema_to_public()
    return ids


class TestCentre:
    def test_lists_only_my_notifications_newest_first_a_page_at_a_time(
        self, api_as, crm_a, django_assert_max_num_queries
    ):
        mine = notes(crm_a, "cara", 5)
        notes(crm_a, "tina", 2, title="Not Cara's")
        cara = api_as("cara")
        with django_assert_max_num_queries(6):
            first = cara.get(BASE, {"page_size": 2})
        assert first.status_code == 200
        assert [n["id"] for n in first.json()["results"]] == mine[::-1][:2]
        assert first.json()["results"][0]["read"] is False
        seen = [n["id"] for n in first.json()["results"]]
        following = first.json()["next"]
        while following:
            with django_assert_max_num_queries(6):
                page = cara.get(following)
            seen += [n["id"] for n in page.json()["results"]]
            following = page.json()["next"]
        assert seen == mine[::-1]
        # The same number of queries for a page of 100.
        notes(crm_a, "cara", 40)
        with django_assert_max_num_queries(6):
            assert len(cara.get(BASE, {"page_size": 100}).json()["results"]) == 45

    def test_unread_count_mark_one_and_all(self, api_as, crm_a):
        ids = notes(crm_a, "cara", 3)
        cara = api_as("cara")
        assert cara.get(f"{BASE}unread-count/").json() == {"unread": 3}
        assert cara.post(f"{BASE}{ids[0]}/read/").json() == {"marked": 1}
        assert cara.post(f"{BASE}{ids[0]}/read/").json() == {"marked": 0}
        unread = cara.get(BASE, {"unread": "true"}).json()["results"]
        assert sorted(n["id"] for n in unread) == ids[1:]
        assert cara.post(f"{BASE}read-all/").json() == {"marked": 2}
        assert cara.get(f"{BASE}unread-count/").json() == {"unread": 0}

    def test_someone_elses_notification_is_not_found(self, api_as, crm_a):
        (tinas,) = notes(crm_a, "tina", 1)
        answer = api_as("cara").post(f"{BASE}{tinas}/read/")
        assert answer.status_code == 404
        with tenant_context(crm_a.gym):
            assert Notification.objects.get(pk=tinas).read_at is None

    def test_bad_filter_and_cursor_are_400s_naming_the_field(self, api_as, crm_a):
        cara = api_as("cara")
        assert "unread" in cara.get(BASE, {"unread": "maybe"}).json()["errors"]
        assert "cursor" in cara.get(BASE, {"cursor": "nonsense"}).json()["errors"]
        assert "page_size" in cara.get(BASE, {"page_size": "0"}).json()["errors"]


class TestPreferences:
    def test_reads_and_changes_choices_and_quiet_hours(self, api_as, crm_a):
        cara = api_as("cara")
        shown = cara.get(f"{BASE}preferences/").json()
        assert {"in_app", "email"} <= set(shown["channels"])
        booking = next(k for k in shown["kinds"] if k["key"] == "booking_confirmed")
        assert booking["channels"]["email"] is True
        changed = cara.patch(
            f"{BASE}preferences/",
            {
                "kinds": {"booking_confirmed": {"email": False}},
                "quiet_start": "22:00",
                "quiet_end": "07:00",
            },
            format="json",
        )
        assert changed.status_code == 200, changed.json()
        booking = next(k for k in changed.json()["kinds"] if k["key"] == "booking_confirmed")
        assert booking["channels"] == {**booking["channels"], "email": False, "in_app": True}
        assert (changed.json()["quiet_start"], changed.json()["quiet_end"]) == ("22:00", "07:00")
        with tenant_context(crm_a.gym):
            stored = selectors.preference_for(crm_a.cara_user)
            assert stored.channels["booking_confirmed:email"] is False
            assert (stored.quiet_start, stored.quiet_end) == (time(22), time(7))
        # Only what the body names changes.
        again = cara.patch(
            f"{BASE}preferences/", {"quiet_start": None, "quiet_end": None}, format="json"
        )
        booking = next(k for k in again.json()["kinds"] if k["key"] == "booking_confirmed")
        assert booking["channels"]["email"] is False
        assert again.json()["quiet_start"] is None

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"kinds": {"no_such_kind": {"email": True}}}, "kinds"),
            ({"kinds": {"booking_confirmed": {"fax": True}}}, "kinds"),
            ({"kinds": {"booking_confirmed": {"email": "perhaps"}}}, "kinds"),
            ({"quiet_start": "22:00"}, "quiet_end"),
            ({"quiet_start": "25:99", "quiet_end": "07:00"}, "quiet_start"),
        ],
    )
    def test_bad_choices_are_400s_naming_the_field(self, api_as, crm_a, body, field):
        answer = api_as("cara").patch(f"{BASE}preferences/", body, format="json")
        assert answer.status_code == 400
        assert any(name.split(".")[0] == field for name in answer.json()["errors"])


class TestPush:
    def test_register_and_unregister_a_device(self, api_as, crm_a):
        cara = api_as("cara")
        endpoint = "https://fcm.googleapis.com/fcm/send/abc"
        made = cara.post(
            PUSH, {"endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": AUTH}}, format="json"
        )
        assert made.status_code == 201, made.json()
        with tenant_context(crm_a.gym):
            assert PushSubscription.objects.get(endpoint=endpoint).user == crm_a.cara_user
        connection.set_schema_to_public()
        # Someone else cannot remove it.
        assert api_as("tina").post(
            f"{PUSH}unsubscribe/", {"endpoint": endpoint}, format="json"
        ).json() == {"removed": False}
        assert cara.post(f"{PUSH}unsubscribe/", {"endpoint": endpoint}, format="json").json() == {
            "removed": True
        }

    def test_unsubscribing_something_that_is_not_a_url_is_a_400_naming_the_field(self, api_as):
        answer = api_as("cara").post(f"{PUSH}unsubscribe/", {"endpoint": 5.7e16}, format="json")
        assert answer.status_code == 400
        assert "endpoint" in answer.json()["errors"]

    def test_not_a_push_service_is_a_400_naming_the_field(self, api_as):
        answer = api_as("cara").post(
            PUSH,
            {"endpoint": "http://127.0.0.1/steal", "keys": {"p256dh": P256DH, "auth": AUTH}},
            format="json",
        )
        assert answer.status_code == 400
        assert "endpoint" in answer.json()["errors"]


def test_gym_a_credentials_reach_nothing_on_gym_b(crm_a, crm_b):
    (theirs,) = notes(crm_b, "cara", 1, title="B's")
    login = GymClient(crm_a.gym.subdomain)
    login.force_login(crm_a.cara_user)
    intruder = APIClient(HTTP_HOST=crm_b.host)
    intruder.cookies["sessionid"] = login.cookies["sessionid"].value
    for method, path in (
        ("get", BASE),
        ("get", f"{BASE}unread-count/"),
        ("get", f"{BASE}preferences/"),
        ("post", f"{BASE}{theirs}/read/"),
        ("post", f"{BASE}read-all/"),
        ("patch", f"{BASE}preferences/"),
        ("post", PUSH),
    ):
        answer = getattr(intruder, method)(path)
        assert answer.status_code in (401, 403, 404), path
        assert b"B's" not in answer.content
    with tenant_context(crm_b.gym):
        assert Notification.objects.get(pk=theirs).read_at is None
