"""Postmark's tracking webhook through anymail's own view, with basic auth, routed to the gym
named in the message's metadata; bounces and complaints feed that gym's suppression list."""

from __future__ import annotations

import base64
import json

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from apps.notifications.models import Delivery, DeliveryStatus, Suppression
from apps.notifications.services import notify

pytestmark = pytest.mark.django_db

URL = "/integrations/email/postmark/tracking/"


def _auth(secret: str = "postmark:s3cret") -> str:  # noqa: S107 - the test webhook secret
    return "Basic " + base64.b64encode(secret.encode()).decode()


def _bounce(schema: str, delivery_id: int, email: str, kind: str = "HardBounce") -> dict:
    return {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": 1,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {"schema": schema, "delivery": str(delivery_id)},
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "no-reply@fitnesscrm.example",
        "BouncedAt": "2026-12-06T10:33:54.9070259Z",
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Cancelled",
        "MessageStream": "outbound",
    }


@pytest.fixture
def webhook_secret(settings):  # type: ignore[no-untyped-def]
    settings.ANYMAIL = {"WEBHOOK_SECRET": "postmark:s3cret"}


def _sent(people, django_capture_on_commit_callbacks) -> Delivery:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind="test", recipient=people.wanda, context={}, event_key="wh:1")
    return Delivery.objects.get()


def test_a_hard_bounce_suppresses_the_address_for_later_sends(
    people, webhook_secret, public_client, django_capture_on_commit_callbacks
):
    delivery = _sent(people, django_capture_on_commit_callbacks)
    body = _bounce(people.gym.schema_name, delivery.pk, "Wanda@example.com")
    response = public_client.post(
        URL, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=_auth()
    )
    assert response.status_code == 200
    with tenant_context(people.gym):
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.BOUNCED
        assert Suppression.objects.filter(address="wanda@example.com", reason="bounce").exists()
        mail.outbox = []
        with django_capture_on_commit_callbacks(execute=True):
            notify(kind="test", recipient=people.wanda, context={}, event_key="wh:2")
        assert mail.outbox == []
        assert Delivery.objects.get(event_key__startswith="wh:2").status == "suppressed"


def test_a_complaint_suppresses(
    people, webhook_secret, public_client, django_capture_on_commit_callbacks
):
    delivery = _sent(people, django_capture_on_commit_callbacks)
    body = {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "MessageID": "00000000-0000-0000-0000-000000000000",
        "Metadata": {"schema": people.gym.schema_name, "delivery": str(delivery.pk)},
        "Email": "wanda@example.com",
        "BouncedAt": "2026-12-06T10:33:54Z",
        "MessageStream": "outbound",
    }
    response = public_client.post(
        URL, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=_auth()
    )
    assert response.status_code == 200
    with tenant_context(people.gym):
        assert Suppression.objects.get(address="wanda@example.com").reason == "complaint"


def test_wrong_credentials_change_nothing(
    people, webhook_secret, public_client, django_capture_on_commit_callbacks
):
    delivery = _sent(people, django_capture_on_commit_callbacks)
    body = _bounce(people.gym.schema_name, delivery.pk, "wanda@example.com")
    for auth in (_auth("postmark:wrong"), ""):
        response = public_client.post(
            URL, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=auth
        )
        assert response.status_code in (400, 401, 403)
    with tenant_context(people.gym):
        assert not Suppression.objects.exists()


def test_no_secret_configured_means_no_endpoint(public_client, settings) -> None:
    settings.ANYMAIL = {}
    response = public_client.post(URL, "{}", content_type="application/json")
    assert response.status_code == 404


def test_an_event_routed_to_another_gym_touches_only_that_gym(
    people, gym_b, webhook_secret, public_client, django_capture_on_commit_callbacks
):
    delivery = _sent(people, django_capture_on_commit_callbacks)
    # Gym B's schema with gym A's delivery id: B has no such delivery to that address.
    body = _bounce(gym_b.schema_name, delivery.pk, "wanda@example.com")
    public_client.post(
        URL, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=_auth()
    )
    with tenant_context(people.gym):
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SENT
        assert not Suppression.objects.exists()
