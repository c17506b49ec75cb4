"""SMS reminders arrive with the notification service: a client who asked for texts and said
yes to SMS gets the short reminder through the gym's Messaging Service (a fake Twilio on
loopback), once however often the sweep runs; after STOP, the next reminder reaches nobody."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django_tenants.utils import tenant_context

from apps.crm.models import Client, Consent, ConsentKind
from apps.ics_feeds.services import appointment_reminders_send
from apps.notifications.models import Delivery, DeliveryStatus
from apps.scheduling.models import Appointment
from tests.sms.conftest import INBOUND_URL, SERVICE_A, service_a, twilio  # noqa: F401

pytestmark = pytest.mark.django_db

ANN = "+447700900001"
START = datetime(2030, 7, 1, 12, 0, tzinfo=UTC)
NOW = START - timedelta(hours=3)


def _appointment(crm, start: datetime = START) -> Appointment:  # type: ignore[no-untyped-def]
    return Appointment.objects.create(
        trainer=crm.tom, client=crm.ann, starts_at=start, ends_at=start + timedelta(hours=1)
    )


def test_a_texting_client_is_reminded_by_sms_once(
    twilio,  # noqa: F811
    service_a,  # noqa: F811
    sched_a,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(sched_a.gym):
        Client.objects.filter(pk=sched_a.ann.pk).update(
            phone=ANN, notify_by_sms=True, notify_by_email=False
        )
        Consent.objects.create(client=sched_a.ann, kind=ConsentKind.SMS, granted=True)
        _appointment(sched_a)
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                appointment_reminders_send(now=NOW)
        delivery = Delivery.objects.get(kind="session_reminder", channel="sms")
        assert delivery.status == DeliveryStatus.SENT, delivery.error
        assert delivery.provider == "twilio"
    [form] = twilio.message_calls()
    assert (form["To"], form["MessagingServiceSid"]) == (ANN, SERVICE_A)
    assert form["Body"].startswith("Alpha Fitness: reminder of your session with Tom Coach")
    assert "13:00" in form["Body"]  # the gym's time zone (BST)

    # STOP: the next reminder is recorded as suppressed and Twilio is not asked.
    twilio.inbound(frm=ANN, body="STOP", service_sid=SERVICE_A, url=INBOUND_URL)
    with tenant_context(sched_a.gym):
        Client.objects.filter(pk=sched_a.ann.pk).update(notify_by_sms=True)
        Consent.objects.create(client=sched_a.ann, kind=ConsentKind.SMS, granted=True)
        _appointment(sched_a, START + timedelta(hours=2))
        with django_capture_on_commit_callbacks(execute=True):
            appointment_reminders_send(now=NOW)
        later = Delivery.objects.filter(kind="session_reminder", channel="sms").exclude(
            pk=delivery.pk
        )
        assert [row.status for row in later] == [DeliveryStatus.SUPPRESSED]
    assert len(twilio.message_calls()) == 1
