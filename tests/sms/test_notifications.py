"""Reminders and notifications reach clients by SMS through the notification service and this
gateway: the text goes out through the gym's Messaging Service, Twilio's reports bring its
delivery row to delivered, and after STOP the next notification sends nothing to Twilio."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.crm.models import Client
from apps.notifications.models import Delivery
from apps.notifications.services import Content, notify
from tests.sms.conftest import INBOUND_URL, SERVICE_A

pytestmark = pytest.mark.django_db

ANN = "+447700900001"


def _notify(crm, event_key: str, capture) -> Delivery:  # type: ignore[no-untyped-def]
    with tenant_context(crm.gym):
        ann = Client.objects.get(pk=crm.ann.pk)
        with capture(execute=True):
            notify(
                kind="test",
                recipient=ann,
                context={},
                event_key=event_key,
                channels=["sms"],
                content=Content(subject="Class moved", text="Hi {{ first_name }}, spin is at 7."),
            )
        return Delivery.objects.get(channel="sms", event_key__startswith=event_key)


def test_a_notification_by_sms_goes_through_twilio_and_is_reported(
    twilio, crm_a, service_a, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(crm_a.gym):
        Client.objects.filter(pk=crm_a.ann.pk).update(notify_by_sms=True)
    delivery = _notify(crm_a, "spin-moved", django_capture_on_commit_callbacks)
    assert delivery.status == "sent", delivery.error
    assert delivery.provider == "twilio"
    [form] = twilio.message_calls()
    assert (form["To"], form["MessagingServiceSid"]) == (ANN, SERVICE_A)
    assert "Hi Ann, spin is at 7." in form["Body"]
    twilio.deliver_status(delivery.provider_id)
    with tenant_context(crm_a.gym):
        assert Delivery.objects.get(pk=delivery.pk).status == "delivered"

    # STOP: the next notification reaches nobody, and Twilio is not asked.
    twilio.inbound(frm=ANN, body="STOP", service_sid=SERVICE_A, url=INBOUND_URL)
    calls = len(twilio.message_calls())
    with tenant_context(crm_a.gym):
        Client.objects.filter(pk=crm_a.ann.pk).update(notify_by_sms=True)
    with tenant_context(crm_a.gym):
        ann = Client.objects.get(pk=crm_a.ann.pk)
        with django_capture_on_commit_callbacks(execute=True):
            notify(
                kind="test",
                recipient=ann,
                context={},
                event_key="spin-moved-again",
                channels=["sms"],
                content=Content(subject="Class moved", text="Spin is at 8."),
            )
        later = list(
            Delivery.objects.filter(channel="sms", event_key__startswith="spin-moved-again")
        )
        assert all(row.status in ("suppressed", "skipped", "failed") for row in later)
    assert len(twilio.message_calls()) == calls
