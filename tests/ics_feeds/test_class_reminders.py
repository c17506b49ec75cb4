"""Class reminders: one per booked spot and kind even when the task runs twice, none for
waitlisted or cancelled spots, cancelled classes or clients who opted out, in the gym's time
zone, delivered through a real SMTP server on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django_tenants.utils import tenant_context

from apps.ics_feeds.models import ReminderSent
from apps.ics_feeds.services import class_reminder_hours, class_reminders_send
from apps.scheduling.models import (
    ClassBooking,
    ClassBookingStatus,
    ClassOccurrence,
    ClassType,
    Room,
)
from fitnesscrm.celery import app
from tests.crm.conftest import CrmGym

pytestmark = pytest.mark.django_db

# 17:30 UTC on a summer day is 18:30 in London (BST).
START = datetime(2030, 7, 1, 17, 30, tzinfo=UTC)
NOW = START - timedelta(hours=3)


def _class(crm: CrmGym, start: datetime = START, **extra) -> ClassOccurrence:  # type: ignore[no-untyped-def]
    spin, _ = ClassType.objects.get_or_create(name="Spin")
    return ClassOccurrence.objects.create(
        class_type=spin,
        trainer=crm.tina,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        capacity=10,
        **extra,
    )


def _book(occurrence: ClassOccurrence, client, **extra) -> ClassBooking:  # type: ignore[no-untyped-def]
    return ClassBooking.objects.create(occurrence=occurrence, client=client, **extra)


def test_sent_once_per_booking_even_when_run_twice(sched_a, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        occurrence = _class(sched_a)
        ann, bob = _book(occurrence, sched_a.ann), _book(occurrence, sched_a.bob)
        with django_capture_on_commit_callbacks(execute=True):
            assert class_reminders_send(now=NOW) == 2
        with django_capture_on_commit_callbacks(execute=True):
            assert class_reminders_send(now=NOW) == 0
        assert ReminderSent.objects.filter(class_booking=ann).count() == 1
        assert ReminderSent.objects.filter(class_booking=bob).count() == 1

    assert sorted(m.to[0] for m in mail.outbox) == sorted([sched_a.ann.email, sched_a.bob.email])


def test_only_booked_spots_in_classes_held_within_the_window(  # type: ignore[no-untyped-def]
    sched_a, django_capture_on_commit_callbacks
):
    hours = class_reminder_hours()
    with tenant_context(sched_a.gym):
        occurrence = _class(sched_a)
        _book(occurrence, sched_a.ann, status=ClassBookingStatus.WAITLISTED, waitlist_position=1)
        _book(occurrence, sched_a.bob, status=ClassBookingStatus.CANCELLED)
        _book(_class(sched_a, is_cancelled=True), sched_a.cara)
        _book(_class(sched_a, NOW + timedelta(hours=hours + 1)), sched_a.bob)
        _book(_class(sched_a, NOW - timedelta(hours=1)), sched_a.ann)
        with django_capture_on_commit_callbacks(execute=True):
            assert class_reminders_send(now=NOW) == 0
        assert not ReminderSent.objects.exists()

    assert mail.outbox == []


def test_clients_who_opted_out_or_have_no_email_are_skipped(  # type: ignore[no-untyped-def]
    sched_a, django_capture_on_commit_callbacks
):
    with tenant_context(sched_a.gym):
        sched_a.ann.notify_by_email = False
        sched_a.ann.save(update_fields=["notify_by_email"])
        sched_a.bob.email = ""
        sched_a.bob.save(update_fields=["email"])
        occurrence = _class(sched_a)
        _book(occurrence, sched_a.ann)
        _book(occurrence, sched_a.bob)
        _book(occurrence, sched_a.cara)
        with django_capture_on_commit_callbacks(execute=True):
            assert class_reminders_send(now=NOW) == 1
        assert list(ReminderSent.objects.values_list("class_booking__client", flat=True)) == [
            sched_a.cara.pk
        ]

    assert [m.to for m in mail.outbox] == [[sched_a.cara.email]]


def test_delivered_over_smtp_in_the_gyms_time_zone(  # type: ignore[no-untyped-def]
    sched_a, studio, smtp_server, django_capture_on_commit_callbacks
):
    with tenant_context(sched_a.gym):
        _book(_class(sched_a, room=Room.objects.get(pk=studio.pk)), sched_a.ann)
        with django_capture_on_commit_callbacks(execute=True):
            assert class_reminders_send(now=NOW) == 1
            # Nothing leaves before the reminder's row is committed.
            assert smtp_server.messages == []
        with django_capture_on_commit_callbacks(execute=True):
            class_reminders_send(now=NOW)

    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received.rcpt_tos == [sched_a.ann.email]
    assert "Spin" in received.message["Subject"]
    assert "18:30" in received.message["Subject"]
    assert "18:30" in received.body
    assert "17:30" not in received.body
    assert "Europe/London" in received.body
    assert "Studio" in received.body
    assert "Tina" in received.body
    assert "http://alpha.localhost" in received.body


def test_the_task_is_registered_and_runs_in_the_gym(  # type: ignore[no-untyped-def]
    sched_a, django_capture_on_commit_callbacks
):
    app.loader.import_default_modules()
    assert "calendars.send_class_reminders" in app.tasks
    soon = datetime.now(UTC) + timedelta(hours=1)
    with tenant_context(sched_a.gym):
        booking = _book(_class(sched_a, soon), sched_a.ann)
    with tenant_context(sched_a.gym), django_capture_on_commit_callbacks(execute=True):
        result = app.signature("calendars.send_class_reminders").apply_async()
    assert result.get() == 1
    with tenant_context(sched_a.gym):
        assert ReminderSent.objects.filter(class_booking=booking).exists()


def test_database_refuses_a_second_class_reminder_of_the_same_kind(sched_a) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        booking = _book(_class(sched_a), sched_a.ann)
        ReminderSent.objects.create(class_booking=booking, kind="24h")
        with pytest.raises(IntegrityError), transaction.atomic():
            ReminderSent.objects.create(class_booking=booking, kind="24h")
        ReminderSent.objects.create(class_booking=booking, kind="2h")
        # A reminder is about exactly one thing.
        with pytest.raises(IntegrityError), transaction.atomic():
            ReminderSent.objects.create(kind="24h")
