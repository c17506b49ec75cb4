from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from apps.notifications import services
from apps.notifications.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    Preference,
    Suppression,
)
from apps.notifications.services import Content, notify, quiet_until
from apps.notifications.tasks import deliver

pytestmark = pytest.mark.django_db(transaction=False)


def _run_on_commit(django_capture_on_commit_callbacks, **kwargs):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        return notify(**kwargs)


def test_client_without_login_gets_one_branded_email(people, django_capture_on_commit_callbacks):
    kwargs = {
        "kind": "class_cancelled",
        "recipient": people.wanda,
        "context": {"what": "Yoga", "when": "Mon 7 Dec, 18:00"},
        "event_key": "class_cancelled:1",
        "url": "/portal/",
    }
    created = _run_on_commit(django_capture_on_commit_callbacks, **kwargs)
    assert [d.channel for d in created] == ["email"]
    # Called again (a retried task, a second sweep): nothing more.
    assert _run_on_commit(django_capture_on_commit_callbacks, **kwargs) == []
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["wanda@example.com"]
    assert message.subject == "Cancelled: Yoga on Mon 7 Dec, 18:00"
    assert "Hello Wanda" in message.body
    assert "Alpha Fitness" in message.body
    assert "Alpha Fitness" in message.from_email
    html = message.alternatives[0][0]
    assert "Yoga" in html
    assert people.gym.brand_colour in html
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.event_key == f"class_cancelled:1:c{people.wanda.pk}"
    assert delivery.attempts == 1
    # The task run again for the same delivery sends nothing.
    deliver.apply(args=[delivery.pk])
    assert len(mail.outbox) == 1
    assert Delivery.objects.get().attempts == 1


def test_user_gets_in_app_and_email_in_their_language(people, django_capture_on_commit_callbacks):
    _run_on_commit(
        django_capture_on_commit_callbacks,
        kind="test",
        recipient=people.paula_client,
        context={},
        event_key="test:1",
    )
    channels = set(Delivery.objects.values_list("channel", flat=True))
    assert channels == {"in_app", "email"}  # no SMS without asking, no push without a device
    notification = Notification.objects.get(recipient=people.paula)
    assert notification.read_at is None
    assert notification.title
    assert len(mail.outbox) == 1


def test_preferences_switch_a_channel_off_but_not_mandatory_kinds(
    people, django_capture_on_commit_callbacks
):
    services.preference_update(
        user=people.tess,
        choices={"import_finished:email": False},
        quiet_start=None,
        quiet_end=None,
    )
    _run_on_commit(
        django_capture_on_commit_callbacks,
        kind="import_finished",
        recipient=people.tess,
        context={"file_name": "a.csv", "summary": "3 rows"},
        event_key="import:1",
    )
    assert list(Delivery.objects.values_list("channel", flat=True)) == ["in_app"]
    with pytest.raises(ValidationError):
        services.preference_update(
            user=people.tess, choices={"invitation:email": False}, quiet_start=None, quiet_end=None
        )


def test_unknown_placeholder_sends_nothing(people) -> None:
    with pytest.raises(ValidationError) as caught:
        notify(
            kind="test",
            recipient=people.wanda,
            context={},
            event_key="auto:1",
            content=Content(subject="Hi", text="Hello {{ nick }}"),
        )
    assert "text" in caught.value.message_dict
    assert not Delivery.objects.exists()
    assert mail.outbox == []


def test_content_renders_placeholders(people, django_capture_on_commit_callbacks) -> None:
    _run_on_commit(
        django_capture_on_commit_callbacks,
        kind="test",
        recipient=people.wanda,
        context={},
        event_key="auto:2",
        content=Content(subject="For {{ first_name }}", text="See you at {{ gym_name }}"),
    )
    assert mail.outbox[0].subject == "For Wanda"
    assert "See you at Alpha Fitness" in mail.outbox[0].body


def test_sms_to_a_number_that_is_not_e164_fails_and_sends_nothing(people) -> None:
    people.wanda.phone = "600 111 222"
    people.wanda.notify_by_sms = True
    people.wanda.notify_by_email = False
    people.wanda.save()
    notify(kind="class_reminder", recipient=people.wanda, context={}, event_key="r:1")
    delivery = Delivery.objects.get(channel="sms")
    assert delivery.status == DeliveryStatus.FAILED
    assert "E.164" in delivery.error


def test_suppressed_address_is_logged_not_sent(people, django_capture_on_commit_callbacks):
    Suppression.objects.create(channel="email", address="wanda@example.com", reason="bounce")
    _run_on_commit(
        django_capture_on_commit_callbacks,
        kind="class_cancelled",
        recipient=people.wanda,
        context={"what": "Yoga", "when": "x"},
        event_key="c:2",
    )
    assert Delivery.objects.get().status == DeliveryStatus.SUPPRESSED
    assert mail.outbox == []


def test_quiet_hours_hold_back_until_they_end(people, django_capture_on_commit_callbacks):
    people.tess.time_zone = "Europe/Madrid"
    people.tess.save()
    Preference.objects.create(user=people.tess, quiet_start=time(0, 0), quiet_end=time(23, 59))
    _run_on_commit(
        django_capture_on_commit_callbacks,
        kind="import_finished",
        recipient=people.tess,
        context={"file_name": "a.csv", "summary": "ok"},
        event_key="import:2",
    )
    email = Delivery.objects.get(channel="email")
    assert email.status == DeliveryStatus.QUEUED
    assert email.send_after is not None
    assert mail.outbox == []
    # In-app is never held back.
    assert Delivery.objects.get(channel="in_app").status == DeliveryStatus.SENT
    # Due: the sweep sends it.
    Delivery.objects.filter(pk=email.pk).update(send_after=datetime(2000, 1, 1, tzinfo=UTC))
    assert services.held_deliveries_send() == 1
    assert len(mail.outbox) == 1


def test_quiet_hours_end_on_the_wall_clock_across_daylight_saving() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    # 2026-03-29 02:00 CET the clocks go forward: 23:00 on the 28th is 22:00 UTC; quiet until
    # 07:00 CEST (05:00 UTC), not 07:00 CET (06:00 UTC).
    now = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)
    assert quiet_until(now, time(22), time(7), madrid) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    # And back in autumn: 2026-10-25 03:00 CEST -> 02:00 CET.
    now = datetime(2026, 10, 24, 21, 30, tzinfo=UTC)  # 23:30 CEST
    assert quiet_until(now, time(22), time(7), madrid) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
    # Outside quiet hours: nothing held.
    assert quiet_until(datetime(2026, 3, 28, 12, tzinfo=UTC), time(22), time(7), madrid) is None
    # A window within one day.
    assert (
        quiet_until(datetime(2026, 6, 1, 12, tzinfo=UTC), time(13), time(15), ZoneInfo("UTC"))
        is None
    )
    assert quiet_until(
        datetime(2026, 6, 1, 13, 30, tzinfo=UTC), time(13), time(15), ZoneInfo("UTC")
    ) == datetime(2026, 6, 1, 15, tzinfo=UTC)


def test_update_delivery_never_goes_backwards(people) -> None:
    delivery = Delivery.objects.create(
        channel="sms",
        kind="test",
        event_key="x",
        status=DeliveryStatus.SENT,
        provider="twilio",
        provider_id="SM1",
    )
    assert services.update_delivery(provider="twilio", provider_id="SM1", status="delivered") == 1
    assert services.update_delivery(provider="twilio", provider_id="SM1", status="sent") == 0
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
