"""Appointment reminders: once per appointment and kind, honouring preferences, in the gym's
time zone, delivered through a real SMTP server on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django_tenants.utils import tenant_context

from apps.core.tasks import fan_out_to_gyms
from apps.ics_feeds.models import ReminderSent
from apps.ics_feeds.services import appointment_reminders_send
from apps.scheduling.models import Appointment, AppointmentStatus
from fitnesscrm.celery import app
from tests.crm.conftest import CrmGym

pytestmark = pytest.mark.django_db

# 12:00 UTC on a summer day is 13:00 in London (BST).
START = datetime(2030, 7, 1, 12, 0, tzinfo=UTC)
NOW = START - timedelta(hours=3)


def _appointment(crm: CrmGym, client, start: datetime = START, **extra) -> Appointment:  # type: ignore[no-untyped-def]
    return Appointment.objects.create(
        trainer=crm.tom, client=client, starts_at=start, ends_at=start + timedelta(hours=1), **extra
    )


def test_sent_once_even_when_run_twice(sched_a, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        appointment = _appointment(sched_a, sched_a.ann)
        with django_capture_on_commit_callbacks(execute=True):
            assert appointment_reminders_send(now=NOW) == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert appointment_reminders_send(now=NOW) == 0
        assert ReminderSent.objects.filter(appointment=appointment).count() == 1

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [sched_a.ann.email]


def test_only_booked_appointments_within_the_window(sched_a, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    hours = settings.APPOINTMENT_REMINDER_HOURS
    with tenant_context(sched_a.gym):
        _appointment(sched_a, sched_a.ann, NOW + timedelta(hours=hours + 1))
        _appointment(sched_a, sched_a.ann, START, status=AppointmentStatus.CANCELLED)
        _appointment(sched_a, sched_a.ann, NOW - timedelta(hours=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert appointment_reminders_send(now=NOW) == 0

    assert mail.outbox == []


def test_not_sent_to_clients_who_opted_out_or_have_no_email(  # type: ignore[no-untyped-def]
    sched_a, django_capture_on_commit_callbacks
):
    with tenant_context(sched_a.gym):
        sched_a.ann.notify_by_email = False
        sched_a.ann.save(update_fields=["notify_by_email"])
        sched_a.bob.email = ""
        sched_a.bob.save(update_fields=["email"])
        _appointment(sched_a, sched_a.ann)
        _appointment(sched_a, sched_a.bob, START + timedelta(hours=2))
        with django_capture_on_commit_callbacks(execute=True):
            assert appointment_reminders_send(now=NOW) == 0
        assert not ReminderSent.objects.exists()

    assert mail.outbox == []


def test_delivered_over_smtp_in_the_gyms_time_zone(  # type: ignore[no-untyped-def]
    sched_a, studio, smtp_server, django_capture_on_commit_callbacks
):
    with tenant_context(sched_a.gym):
        _appointment(sched_a, sched_a.ann, room=studio)
        with django_capture_on_commit_callbacks(execute=True):
            assert appointment_reminders_send(now=NOW) == 1
            # Nothing leaves before the reminder's row is committed.
            assert smtp_server.messages == []
        with django_capture_on_commit_callbacks(execute=True):
            appointment_reminders_send(now=NOW)

    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received.rcpt_tos == [sched_a.ann.email]
    assert "13:00" in received.message["Subject"]
    assert "13:00" in received.body
    assert "12:00" not in received.body
    assert "Europe/London" in received.body
    assert "Studio" in received.body
    assert "http://alpha.localhost" in received.body


def test_beat_fans_the_task_out_every_five_minutes() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["appointment-reminders"]
    assert entry["task"] == "core.fan_out_to_gyms"
    assert entry["args"] == ["calendars.send_appointment_reminders"]
    assert entry["schedule"] == 300
    # What a worker does at start-up: autodiscovery finds apps/ics_feeds/tasks.py.
    app.loader.import_default_modules()
    assert "calendars.send_appointment_reminders" in app.tasks


def test_task_sent_from_gym_a_runs_in_gym_a(  # type: ignore[no-untyped-def]
    sched_a, crm_b, django_capture_on_commit_callbacks
):
    assert app.conf.task_always_eager is True
    app.loader.import_default_modules()  # a worker registers the tasks autodiscovery finds
    soon = datetime.now(UTC) + timedelta(hours=1)
    with tenant_context(sched_a.gym):
        in_a = _appointment(sched_a, sched_a.ann, soon)
    with tenant_context(crm_b.gym):
        in_b = _appointment(crm_b, crm_b.ann, soon)

    with tenant_context(sched_a.gym), django_capture_on_commit_callbacks(execute=True):
        result = app.signature("calendars.send_appointment_reminders").apply_async()
    assert result.get() == 1

    with tenant_context(sched_a.gym):
        assert ReminderSent.objects.filter(appointment=in_a).exists()
    with tenant_context(crm_b.gym):
        assert not ReminderSent.objects.filter(appointment=in_b).exists()
    assert [message.to for message in mail.outbox] == [[sched_a.ann.email]]

    # The beat entry's fan-out reaches gym B too, in gym B.
    with django_capture_on_commit_callbacks(execute=True):
        fan_out_to_gyms("calendars.send_appointment_reminders")
    with tenant_context(crm_b.gym):
        assert ReminderSent.objects.filter(appointment=in_b).exists()
    with tenant_context(sched_a.gym):
        assert ReminderSent.objects.filter(appointment=in_a).count() == 1


def test_database_refuses_a_second_reminder_of_the_same_kind(sched_a) -> None:  # type: ignore[no-untyped-def]
    """What makes concurrent runs safe: the loser's insert fails and it skips the email."""
    with tenant_context(sched_a.gym):
        appointment = _appointment(sched_a, sched_a.ann)
        ReminderSent.objects.create(appointment=appointment, kind="24h")
        with pytest.raises(IntegrityError), transaction.atomic():
            ReminderSent.objects.create(appointment=appointment, kind="24h")
        ReminderSent.objects.create(appointment=appointment, kind="2h")
