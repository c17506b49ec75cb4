"""Reminders go through the notification service: one Delivery per channel however often the
task runs, SMS to clients who asked for texts and agreed to them, the client's own choices
bounding what a client with a login gets, and text that is not HTML-escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from apps.crm.models import Consent, ConsentKind
from apps.ics_feeds.services import appointment_reminders_send, class_reminders_send
from apps.notifications.models import Delivery, DeliveryStatus
from apps.scheduling.models import Appointment, ClassBooking, ClassOccurrence, ClassType, Room

pytestmark = pytest.mark.django_db

START = datetime(2030, 7, 1, 12, 0, tzinfo=UTC)
NOW = START - timedelta(hours=3)


def _texting(client, *, consent: bool = True) -> None:  # type: ignore[no-untyped-def]
    client.phone = "+447700900001"
    client.notify_by_sms = True
    client.save(update_fields=["phone", "notify_by_sms"])
    Consent.objects.create(client=client, kind=ConsentKind.SMS, granted=consent)


def _appointment(crm, client, **extra) -> Appointment:  # type: ignore[no-untyped-def]
    return Appointment.objects.create(
        trainer=crm.tom, client=client, starts_at=START, ends_at=START + timedelta(hours=1), **extra
    )


def test_one_delivery_per_channel_however_often_it_runs(
    sched_a, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        _texting(sched_a.ann)
        appointment = _appointment(sched_a, sched_a.ann)
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                appointment_reminders_send(now=NOW)
        deliveries = {d.channel: d for d in Delivery.objects.filter(kind="session_reminder")}
        assert set(deliveries) == {"email", "sms"}
        assert deliveries["email"].status == DeliveryStatus.SENT
        assert deliveries["email"].event_key == (
            f"session_reminder:{appointment.pk}:24h:c{sched_a.ann.pk}"
        )
        sms = deliveries["sms"]
        assert sms.address == "+447700900001"
        assert sms.body.startswith("Alpha Fitness: reminder of your session with Tom Coach")
        assert len(sms.body) <= 160
    assert len(mail.outbox) == 1


def test_no_text_without_sms_consent(sched_a, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        _texting(sched_a.ann, consent=False)
        sched_a.ann.notify_by_email = False
        sched_a.ann.save(update_fields=["notify_by_email"])
        _appointment(sched_a, sched_a.ann)
        with django_capture_on_commit_callbacks(execute=True):
            assert appointment_reminders_send(now=NOW) == 0
        assert not Delivery.objects.filter(kind="session_reminder").exists()


def test_sms_only_clients_are_reminded_by_text(sched_a, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        _texting(sched_a.bob)
        sched_a.bob.notify_by_email = False
        sched_a.bob.save(update_fields=["notify_by_email"])
        spin = ClassType.objects.create(name="Spin")
        occurrence = ClassOccurrence.objects.create(
            class_type=spin, starts_at=START, ends_at=START + timedelta(hours=1), capacity=5
        )
        ClassBooking.objects.create(occurrence=occurrence, client=sched_a.bob)
        with django_capture_on_commit_callbacks(execute=True):
            assert class_reminders_send(now=NOW) == 1
        reminders = Delivery.objects.filter(kind="class_reminder")
        assert list(reminders.values_list("channel", flat=True)) == ["sms"]
    assert mail.outbox == []


def test_a_client_with_a_login_keeps_their_email_choice(
    sched_a, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        sched_a.cara.notify_by_email = False
        sched_a.cara.save(update_fields=["notify_by_email"])
        _texting(sched_a.cara)
        _appointment(sched_a, sched_a.cara)
        with django_capture_on_commit_callbacks(execute=True):
            assert appointment_reminders_send(now=NOW) == 1
        channels = set(
            Delivery.objects.filter(kind="session_reminder").values_list("channel", flat=True)
        )
        # In the app (she has a login) and by text; not by email, which she switched off.
        assert channels == {"in_app", "sms"}
    assert mail.outbox == []


def test_names_are_not_html_escaped(sched_a, studio, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        room = Room.objects.create(location=studio.location, name="Mum & Baby's corner")
        _appointment(sched_a, sched_a.ann, room=room)
        with django_capture_on_commit_callbacks(execute=True):
            appointment_reminders_send(now=NOW)
    body = mail.outbox[0].body
    assert "Mum & Baby's corner" in body
    assert "&amp;" not in body
    assert "&#x27;" not in body
    html = mail.outbox[0].alternatives[0][0]
    assert "Mum &amp; Baby&#x27;s corner" in html, html
