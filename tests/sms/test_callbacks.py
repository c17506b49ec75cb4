"""Twilio's callbacks on the public host, from the fake Twilio: only a valid X-Twilio-Signature
changes anything; delivery reports move a text's delivery row once and never backwards; STOP,
START and HELP; inbound texts land in the client's conversation with the gym of the Messaging
Service they were sent to, never another gym's; staff replies to an SMS go back by SMS."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.crm.models import Consent, ConsentKind
from apps.messaging.models import Conversation, Message
from apps.messaging.services import conversation_with_gym, post_message
from apps.notifications.models import Delivery, Suppression
from apps.sms import services
from apps.sms.gateway import SmsSuppressedError, send_sms
from apps.sms.models import GymMessagingService
from tests.fakes.twilio import twilio_signature
from tests.sms.conftest import AUTH_TOKEN, INBOUND_URL, SERVICE_A, SERVICE_B

pytestmark = pytest.mark.django_db

ANN = "+447700900001"  # Ann's number, in gym A and in gym B (tests/crm/conftest.py)
STATUS_URL = "http://localhost/integrations/twilio/status/?gym=alpha"


def _test_send(gym, owner, to: str = ANN) -> Delivery:  # type: ignore[no-untyped-def]
    with tenant_context(gym):
        return services.sms_test_send(actor=owner, to=to)


def _delivery(gym, pk: int) -> Delivery:  # type: ignore[no-untyped-def]
    with tenant_context(gym):
        return Delivery.objects.get(pk=pk)


def _texts_in_conversations(gym) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    with tenant_context(gym):
        return list(Message.objects.order_by("pk").values_list("sender_client_id", "body", "via"))


def _post(url: str, params: dict[str, str], signature: str) -> int:
    path = url.removeprefix("http://localhost")
    return (
        Client(HTTP_HOST="localhost")
        .post(
            path,
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": signature},
        )
        .status_code
    )


# --- Signatures ---------------------------------------------------------------------------------


def test_a_forged_status_callback_changes_nothing(twilio, crm_a, service_a) -> None:
    delivery = _test_send(crm_a.gym, crm_a.owner)
    assert delivery.status == "sent"
    params = twilio.status_params(delivery.provider_id, "delivered")
    # Signed with another token, not signed, tampered after signing, or for another URL.
    assert _post(STATUS_URL, params, twilio_signature("someone-else", STATUS_URL, params)) == 403
    assert _post(STATUS_URL, params, "") == 403
    signed = twilio_signature(AUTH_TOKEN, STATUS_URL, {**params, "MessageStatus": "failed"})
    assert _post(STATUS_URL, params, signed) == 403
    other_gym = "http://localhost/integrations/twilio/status/?gym=bravo"
    assert _post(other_gym, params, twilio_signature(AUTH_TOKEN, STATUS_URL, params)) == 403
    assert twilio.send_status(delivery.provider_id, "delivered") == 204
    assert _delivery(crm_a.gym, delivery.pk).status == "delivered"


def test_a_forged_inbound_stop_changes_nothing(twilio, crm_a, service_a) -> None:
    params = twilio.inbound_params(frm=ANN, body="STOP", service_sid=SERVICE_A)
    assert _post(INBOUND_URL, params, twilio_signature("guess", INBOUND_URL, params)) == 403
    # Another account's callback, even correctly signed with its own token, is not ours.
    foreign = {**params, "AccountSid": "AC" + "9" * 32}
    assert _post(INBOUND_URL, foreign, twilio_signature(AUTH_TOKEN, INBOUND_URL, foreign)) == 403
    with tenant_context(crm_a.gym):
        assert not Suppression.objects.exists()
    assert _texts_in_conversations(crm_a.gym) == []


def test_signatures_are_checked_against_the_public_url_behind_a_proxy(
    twilio, settings, crm_a, service_a
) -> None:
    """Twilio signs https://<BASE_DOMAIN>/...; a TLS-terminating proxy hands Django plain
    http (and the test client's port): the public URL is the one checked."""
    settings.URL_SCHEME = "https"
    delivery = _test_send(crm_a.gym, crm_a.owner)
    message = twilio.messages[delivery.provider_id]
    assert message["status_callback"].startswith("https://localhost/integrations/twilio/status/")
    assert twilio.send_status(delivery.provider_id, "delivered") == 204
    assert _delivery(crm_a.gym, delivery.pk).status == "delivered"


# --- Delivery reports ---------------------------------------------------------------------------


def test_reports_move_the_delivery_to_delivered(twilio, crm_a, service_a) -> None:
    delivery = _test_send(crm_a.gym, crm_a.owner)
    assert twilio.deliver_status(delivery.provider_id) == [204, 204, 204]
    delivery = _delivery(crm_a.gym, delivery.pk)
    assert delivery.status == "delivered"
    assert GymMessagingService.objects.get(pk=service_a.pk).last_status_at is not None


def test_reports_are_idempotent_and_safe_out_of_order(twilio, crm_a, service_a) -> None:
    delivery = _test_send(crm_a.gym, crm_a.owner)
    sid = delivery.provider_id
    # delivered arrives before sent and queued, and twice.
    for status in ("delivered", "sent", "queued", "delivered", "sent"):
        assert twilio.send_status(sid, status) == 204
    delivery = _delivery(crm_a.gym, delivery.pk)
    assert delivery.status == "delivered"
    with tenant_context(crm_a.gym):
        assert Delivery.objects.filter(provider_id=sid).count() == 1


def test_a_failed_report_with_21610_suppresses_the_number(twilio, crm_a, service_a) -> None:
    delivery = _test_send(crm_a.gym, crm_a.owner)
    twilio.send_status(delivery.provider_id, "failed", error_code="21610")
    delivery = _delivery(crm_a.gym, delivery.pk)
    assert delivery.status == "failed"
    assert "21610" in delivery.error
    with tenant_context(crm_a.gym):
        assert Suppression.objects.filter(channel="sms", address=ANN).exists()


def test_a_report_for_gym_a_never_touches_gym_b(twilio, crm_a, crm_b, service_a, service_b):
    delivery_a = _test_send(crm_a.gym, crm_a.owner)
    delivery_b = _test_send(crm_b.gym, crm_b.owner)
    message_a = twilio.messages[delivery_a.provider_id]
    # A report signed for gym A's callback URL but naming gym B's message changes nothing in B.
    params = twilio.status_params(delivery_a.provider_id, "failed")
    params["MessageSid"] = params["SmsSid"] = delivery_b.provider_id
    assert twilio.post(message_a["status_callback"], params) == 204
    assert _delivery(crm_b.gym, delivery_b.pk).status == "sent"
    assert _delivery(crm_a.gym, delivery_a.pk).status == "sent"


# --- STOP, START, HELP ------------------------------------------------------------------------


def test_stop_then_a_send_is_refused_without_a_request(twilio, crm_a, crm_b, service_a, service_b):
    with tenant_context(crm_a.gym):
        Consent.objects.create(client=crm_a.ann, kind=ConsentKind.SMS, granted=True)
    assert twilio.inbound(frm=ANN, body="Stop", service_sid=SERVICE_A, url=INBOUND_URL) == 200
    with tenant_context(crm_a.gym):
        suppression = Suppression.objects.get(channel="sms", address=ANN)
        assert suppression.reason == "stop"
        latest = Consent.objects.filter(client=crm_a.ann, kind=ConsentKind.SMS).first()
        assert latest.granted is False
        requests_before = len(twilio.requests)
        with pytest.raises(SmsSuppressedError):
            send_sms(to=ANN, body="Class tomorrow?")
        assert len(twilio.requests) == requests_before
    # Ann of gym B (same number) did not text gym B: gym B may still text her.
    with tenant_context(crm_b.gym):
        assert not Suppression.objects.exists()
        twilio.opted_out.clear()  # Twilio's list is per Messaging Service
        assert send_sms(to=ANN, body="Hello from B").startswith("SM")


@pytest.mark.parametrize("keyword", ["STOP", "stopall", "Unsubscribe", "cancel", "END", "quit."])
def test_every_stop_keyword_suppresses(twilio, crm_a, service_a, keyword) -> None:
    twilio.inbound(frm=ANN, body=keyword, service_sid=SERVICE_A, url=INBOUND_URL)
    with tenant_context(crm_a.gym):
        assert Suppression.objects.filter(channel="sms", address=ANN).exists()
    assert _texts_in_conversations(crm_a.gym) == []


@pytest.mark.parametrize("keyword", ["START", "yes", "Unstop"])
def test_start_re_enables(twilio, crm_a, service_a, keyword) -> None:
    twilio.inbound(frm=ANN, body="STOP", service_sid=SERVICE_A, url=INBOUND_URL)
    twilio.inbound(frm=ANN, body=keyword, service_sid=SERVICE_A, url=INBOUND_URL)
    with tenant_context(crm_a.gym):
        assert not Suppression.objects.filter(channel="sms", address=ANN).exists()
        latest = Consent.objects.filter(client=crm_a.ann, kind=ConsentKind.SMS).first()
        assert latest.granted is True
        assert send_sms(to=ANN, body="Welcome back").startswith("SM")
    assert twilio.message_calls()[-1]["Body"] == "Welcome back"


def test_help_is_answered_with_the_gyms_contact_details(twilio, crm_a, service_a) -> None:
    crm_a.gym.contact_phone = "+447700900500"
    crm_a.gym.contact_email = "hello@alpha.example"
    crm_a.gym.save()
    twilio.inbound(frm=ANN, body="help", service_sid=SERVICE_A, url=INBOUND_URL)
    response = twilio.transport.responses[-1]
    assert response["Content-Type"].startswith("application/xml")
    twiml = response.content.decode()
    assert "<Response><Message>" in twiml
    assert "Alpha Fitness" in twiml
    assert "+447700900500" in twiml
    assert "hello@alpha.example" in twiml
    assert _texts_in_conversations(crm_a.gym) == []


# --- Inbound texts into conversations ---------------------------------------------------------


def test_an_inbound_text_lands_in_the_clients_conversation(twilio, crm_a, service_a) -> None:
    assert (
        twilio.inbound(frm=ANN, body="Running 10 min late", service_sid=SERVICE_A, url=INBOUND_URL)
        == 200
    )
    assert twilio.transport.responses[-1].content.decode().endswith("<Response />")
    assert _texts_in_conversations(crm_a.gym) == [(crm_a.ann.pk, "Running 10 min late", "sms")]
    with tenant_context(crm_a.gym):
        conversation = Conversation.objects.get()
        assert (conversation.kind, conversation.client_id) == ("gym", crm_a.ann.pk)
    assert GymMessagingService.objects.get(pk=service_a.pk).last_inbound_at is not None


def test_gym_a_numbers_inbound_never_writes_into_gym_b(
    twilio, crm_a, crm_b, service_a, service_b
) -> None:
    twilio.inbound(frm=ANN, body="For gym A", service_sid=SERVICE_A, url=INBOUND_URL)
    twilio.inbound(frm=ANN, body="STOP", service_sid=SERVICE_A, url=INBOUND_URL)
    assert _texts_in_conversations(crm_b.gym) == []
    with tenant_context(crm_b.gym):
        assert not Suppression.objects.exists()
    twilio.inbound(frm=ANN, body="For gym B", service_sid=SERVICE_B, url=INBOUND_URL)
    assert [body for _, body, _ in _texts_in_conversations(crm_a.gym)] == ["For gym A"]
    assert _texts_in_conversations(crm_b.gym) == [(crm_b.ann.pk, "For gym B", "sms")]


def test_an_unknown_service_or_sender_writes_nothing(twilio, crm_a, service_a) -> None:
    unknown = "MG" + "c" * 32
    assert twilio.inbound(frm=ANN, body="Hi", service_sid=unknown, url=INBOUND_URL) == 200
    stranger = "+447700900777"
    assert twilio.inbound(frm=stranger, body="Hi", service_sid=SERVICE_A, url=INBOUND_URL) == 200
    assert _texts_in_conversations(crm_a.gym) == []


def test_an_inbound_text_posted_twice_lands_once(twilio, crm_a, service_a) -> None:
    params = twilio.inbound_params(frm=ANN, body="Once only", service_sid=SERVICE_A)
    assert twilio.post(INBOUND_URL, params) == 200
    assert twilio.post(INBOUND_URL, params) == 200
    assert len(_texts_in_conversations(crm_a.gym)) == 1


def test_a_staff_reply_to_an_sms_goes_back_by_sms(
    twilio, crm_a, service_a, django_capture_on_commit_callbacks
) -> None:
    twilio.inbound(frm=ANN, body="Can I move to 6pm?", service_sid=SERVICE_A, url=INBOUND_URL)
    with tenant_context(crm_a.gym):
        conversation = conversation_with_gym(client=crm_a.ann)
        # On commit, the notification service's delivery task sends it (eager in tests).
        with django_capture_on_commit_callbacks(execute=True):
            reply = post_message(
                conversation=conversation, sender_user=crm_a.desk, body="Sure, 6pm."
            )
        delivery = Delivery.objects.get(event_key=f"message:{reply.pk}")
        assert (delivery.channel, delivery.address, delivery.kind) == ("sms", ANN, "message_reply")
        assert delivery.status == "sent"
    [*_, last] = twilio.message_calls()
    assert (last["To"], last["Body"], last["MessagingServiceSid"]) == (ANN, "Sure, 6pm.", SERVICE_A)
    # The report for the reply finds its delivery.
    twilio.deliver_status(delivery.provider_id)
    assert _delivery(crm_a.gym, delivery.pk).status == "delivered"


def test_a_staff_reply_in_an_app_conversation_is_not_texted(twilio, crm_a, service_a) -> None:
    with tenant_context(crm_a.gym):
        conversation = conversation_with_gym(client=crm_a.cara)
        post_message(conversation=conversation, sender_user=crm_a.cara_user, body="Hi from app")
        reply = post_message(conversation=conversation, sender_user=crm_a.desk, body="Hello!")
        assert not Delivery.objects.filter(event_key=f"message:{reply.pk}").exists()
    assert twilio.message_calls() == []


@pytest.mark.parametrize("body", ["", "   ", "nul \x00 inside"])
def test_a_text_messaging_cannot_take_is_answered_and_dropped(twilio, crm_a, service_a, body):
    assert twilio.inbound(frm=ANN, body=body, service_sid=SERVICE_A, url=INBOUND_URL) == 200
    assert _texts_in_conversations(crm_a.gym) == []


def test_a_report_that_overtakes_its_sid_is_applied_a_little_later(
    twilio, crm_a, service_a, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from apps.sms import tasks

    delivery = _test_send(crm_a.gym, crm_a.owner)
    sid = delivery.provider_id
    # The sender has Twilio's answer but has not written the SID yet.
    with tenant_context(crm_a.gym):
        Delivery.objects.filter(pk=delivery.pk).update(provider_id="")
    scheduled: list = []
    monkeypatch.setattr(
        tasks.sms_status_retry,
        "apply_async",
        lambda args, countdown: scheduled.append((args, countdown)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert twilio.send_status(sid, "delivered") == 204
    [((params, attempt), countdown)] = scheduled
    assert (params["MessageSid"], attempt, countdown) == (sid, 1, 15)
    with tenant_context(crm_a.gym):
        Delivery.objects.filter(pk=delivery.pk).update(provider_id=sid)
        assert tasks.sms_status_retry(params, attempt) == 1
        assert Delivery.objects.get(pk=delivery.pk).status == "delivered"
    # Given up after a few tries: a report for a text that is not ours stays unmatched.
    with tenant_context(crm_a.gym):
        assert tasks.sms_status_retry({**params, "MessageSid": "SMnot-ours"}, 3) == 0
    assert len(scheduled) == 1
