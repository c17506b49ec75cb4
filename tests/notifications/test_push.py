"""Web push through pywebpush to a fake push service on loopback that verifies the VAPID JWT;
the payload is decrypted with the browser's own keys."""

from __future__ import annotations

import pytest

from apps.notifications.models import Delivery, DeliveryStatus, PushSubscription
from apps.notifications.services import notify
from tests.fakes.webpush import FakeBrowserSubscription, FakePushService, VapidKeys

pytestmark = pytest.mark.django_db


@pytest.fixture
def push_service(settings):  # type: ignore[no-untyped-def]
    keys = VapidKeys()
    settings.VAPID_PUBLIC_KEY = keys.public
    settings.VAPID_PRIVATE_KEY = keys.private
    settings.VAPID_SUBJECT = "mailto:ops@example.com"
    settings.WEBPUSH_INSECURE_HOSTS = ("127.0.0.1",)
    with FakePushService() as service:
        service.vapid_public = keys.public  # type: ignore[attr-defined]
        yield service


def _subscribe(user, service, name="phone"):  # type: ignore[no-untyped-def]
    browser = FakeBrowserSubscription(service.endpoint(name))
    PushSubscription.objects.create(
        user=user, endpoint=browser.endpoint, p256dh=browser.p256dh, auth=browser.auth
    )
    return browser


def test_push_reaches_the_device_signed_and_encrypted(
    people, push_service, django_capture_on_commit_callbacks
):
    browser = _subscribe(people.paula, push_service)
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            kind="test",
            recipient=people.paula,
            context={},
            event_key="push:1",
            url="/portal/schedule/",
        )
    assert push_service.refused == []
    [received] = push_service.received
    assert received.vapid_key == push_service.vapid_public
    assert received.claims["sub"] == "mailto:ops@example.com"
    payload = browser.decrypt(received.body)
    assert payload["title"].startswith("Notificación de prueba")  # in Paula's language, Spanish
    assert payload["url"] == "http://alpha.localhost/portal/schedule/"
    delivery = Delivery.objects.get(channel="push")
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider == "webpush"


def test_an_expired_subscription_is_forgotten(
    people, push_service, django_capture_on_commit_callbacks
):
    _subscribe(people.paula, push_service, "old")
    live = _subscribe(people.paula, push_service, "new")
    push_service.gone.add("/push/old")
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind="test", recipient=people.paula, context={}, event_key="push:2")
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [live.endpoint]
    assert len(push_service.received) == 1
    assert Delivery.objects.get(channel="push").provider_id == "1/2"


def test_a_push_signed_with_another_key_is_refused_and_recorded(
    people, push_service, django_capture_on_commit_callbacks
):
    _subscribe(people.paula, push_service)
    push_service.expected_key = VapidKeys().public
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind="test", recipient=people.paula, context={}, event_key="push:3")
    assert push_service.received == []
    assert push_service.refused == ["signed by another key than the subscription's"]
    delivery = Delivery.objects.get(channel="push")
    # A refusal is not retried: failed at once, with the push service's answer.
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert "403" in delivery.error
