from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context

from apps.notifications.models import Delivery, Notification, Preference, PushSubscription
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _notification(user, title="Booked: Yoga", url="/portal/"):  # type: ignore[no-untyped-def]
    return Notification.objects.create(recipient=user, kind="test", title=title, url=url)


def test_staff_centre_lists_only_the_viewers_notifications(people, client_a):
    mine = _notification(people.tess, "Mine")
    _notification(people.owner, "The owner's")
    client_a.force_login(people.tess)
    response = client_a.get("/notifications/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Mine" in page
    assert "The owner&#x27;s" not in page
    assert 'data-testid="notification-count"' in page  # the bell, with its count
    with tenant_context(people.gym):
        assert mine.read_at is None


def test_mark_read_and_all_read(people, client_a):
    first, second = _notification(people.tess, "One"), _notification(people.tess, "Two")
    client_a.force_login(people.tess)
    response = client_a.post(f"/notifications/{first.pk}/read/", {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    with tenant_context(people.gym):
        first.refresh_from_db()
        assert first.read_at is not None
    client_a.post("/notifications/read-all/")
    with tenant_context(people.gym):
        assert not Notification.objects.filter(recipient=people.tess, read_at=None).exists()
        assert second.pk


def test_nobody_marks_someone_elses_notification(people, client_a):
    owners = _notification(people.owner)
    client_a.force_login(people.tess)
    assert client_a.post(f"/notifications/{owners.pk}/read/").status_code == 404
    with tenant_context(people.gym):
        owners.refresh_from_db()
        assert owners.read_at is None


def test_open_link_never_leaves_the_gym(people, client_a):
    note = _notification(people.tess, url="https://evil.example/")
    client_a.force_login(people.tess)
    response = client_a.post(f"/notifications/{note.pk}/read/", {"open": "1"})
    assert response["Location"] == "/notifications/"


def test_gym_a_session_sees_nothing_on_gym_b(people, client_a, gym_b):
    client_a.force_login(people.tess)
    for path in ("/notifications/", "/notifications/log/", "/notifications/preferences/"):
        response = client_a.get(path, HTTP_HOST=f"{gym_b.subdomain}.localhost")
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    with tenant_context(people.gym):
        note = _notification(people.tess)
    response = client_a.post(
        f"/notifications/{note.pk}/read/", HTTP_HOST=f"{gym_b.subdomain}.localhost"
    )
    assert response.status_code == 302
    with tenant_context(people.gym):
        note.refresh_from_db()
        assert note.read_at is None


def test_clients_use_the_portals_centre(people, client_a):
    _notification(people.paula, "Tu clase")
    client_a.force_login(people.paula)
    assert client_a.get("/notifications/")["Location"] == "/portal/notifications/"
    response = client_a.get("/portal/notifications/")
    assert response.status_code == 200
    assert "Tu clase" in response.content.decode()
    assert client_a.get("/portal/notifications/preferences/").status_code == 200


def test_preferences_save_choices_and_quiet_hours(people, client_a):
    client_a.force_login(people.tess)
    page = client_a.get("/notifications/preferences/")
    assert page.status_code == 200
    response = client_a.post(
        "/notifications/preferences/",
        {"import_finished__in_app": "on", "quiet_start": "22:00", "quiet_end": "07:00"},
    )
    assert response.status_code == 302
    with tenant_context(people.gym):
        preference = Preference.objects.get(user=people.tess)
        assert preference.channels["import_finished:email"] is False
        assert "import_finished:in_app" not in preference.channels  # the default
        assert str(preference.quiet_start) == "22:00:00"


def test_half_quiet_hours_are_refused_on_the_field(people, client_a):
    client_a.force_login(people.tess)
    response = client_a.post("/notifications/preferences/", {"quiet_start": "22:00"})
    assert response.status_code == 400
    assert "Give both the start and the end" in response.content.decode()


def test_delivery_log_is_for_management_and_bounded(
    people, client_a, django_assert_max_num_queries
):
    with tenant_context(people.gym):
        for number in range(60):
            Delivery.objects.create(
                channel="email",
                kind="class_reminder",
                event_key=f"e{number}",
                address=f"person{number}@example.com",
                recipient_client=people.wanda,
                recipient_user=people.paula if number % 2 else None,
                status="failed" if number == 7 else "sent",
                error="Mailbox full" if number == 7 else "",
            )
    client_a.force_login(people.tess)
    assert client_a.get("/notifications/log/").status_code == 403
    client_a.force_login(people.owner)
    with django_assert_max_num_queries(12):
        response = client_a.get("/notifications/log/")
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="delivery-row"') == 50
    response = client_a.get("/notifications/log/", {"recipient": "person7@", "status": "failed"})
    page = response.content.decode()
    assert page.count('data-testid="delivery-row"') == 1
    assert "Mailbox full" in page
    response = client_a.get("/notifications/log/", {"since": "2026-13-01"})
    assert response.status_code == 400


def test_push_subscription_endpoints(people, client_a, settings):
    settings.WEBPUSH_INSECURE_HOSTS = ("127.0.0.1",)
    client_a.force_login(people.paula)
    bad = client_a.post(
        "/notifications/push/subscribe/",
        json.dumps({"endpoint": "http://10.0.0.1/x", "keys": {"p256dh": "a", "auth": "b"}}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "endpoint" in bad.json()["errors"]
    key = "B" + "A" * 86  # 65 bytes once decoded
    good = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
        "keys": {"p256dh": key, "auth": "AAAAAAAAAAAAAAAAAAAAAA"},
    }
    response = client_a.post(
        "/notifications/push/subscribe/", json.dumps(good), content_type="application/json"
    )
    assert response.status_code == 201
    with tenant_context(people.gym):
        assert PushSubscription.objects.filter(user=people.paula).count() == 1
    response = client_a.post(
        "/notifications/push/unsubscribe/",
        json.dumps({"endpoint": good["endpoint"]}),
        content_type="application/json",
    )
    assert response.json() == {"unsubscribed": True}


def test_another_user_cannot_remove_a_push_subscription(people, client_a):
    with tenant_context(people.gym):
        other = make_user("client", "other@example.com")
        PushSubscription.objects.create(
            user=other, endpoint="https://fcm.googleapis.com/x", p256dh="k", auth="a"
        )
    client_a.force_login(people.paula)
    response = client_a.post(
        "/notifications/push/unsubscribe/",
        json.dumps({"endpoint": "https://fcm.googleapis.com/x"}),
        content_type="application/json",
    )
    assert response.json() == {"unsubscribed": False}
