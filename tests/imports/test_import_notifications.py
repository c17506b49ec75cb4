"""Whoever started an import hears how it ended, through the notification service: once per
run, in the app and by email."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection

from apps.imports.models import ImportJobStatus
from apps.notifications.models import Delivery, Notification
from tests.imports.test_services import checked, imported

pytestmark = pytest.mark.django_db


def test_a_finished_import_is_notified_once(
    staff, in_gym_a, sample_bytes, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    desk = staff["desk"]
    mail.outbox.clear()
    job = imported(desk, checked(desk, sample_bytes), django_capture_on_commit_callbacks)
    assert job.status == ImportJobStatus.DONE
    deliveries = Delivery.objects.filter(kind="import_finished", recipient_user=desk)
    assert set(deliveries.values_list("channel", flat=True)) == {"in_app", "email"}
    notification = Notification.objects.get(recipient=desk, kind="import_finished")
    assert "24 created" in notification.body
    assert notification.url.endswith(f"/import/{job.pk}/")
    assert [m.to for m in mail.outbox] == [[desk.email]]


def test_a_failed_import_says_why(
    staff, in_gym_a, sample_bytes, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    desk = staff["desk"]
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE crm_client ADD CONSTRAINT test_refuses_zoe "
            "CHECK (first_name <> 'Zoë') NOT VALID"
        )
    job = imported(desk, checked(desk, sample_bytes), django_capture_on_commit_callbacks)
    assert job.status == ImportJobStatus.FAILED
    notification = Notification.objects.get(recipient=desk, kind="import_finished")
    assert "Row 5 could not be imported" in notification.body
