"""The gateway against the fake Twilio: what is sent (the gym's Messaging Service, a signed
status callback URL naming the gym), what is refused before any request (not E.164, opted
out, no service), and Twilio's refusals (21211, 21610 joins our list, 429 with Retry-After)."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.notifications.models import Suppression
from apps.sms import gateway
from apps.sms.gateway import (
    SmsError,
    SmsInvalidNumberError,
    SmsNotConfiguredError,
    SmsSuppressedError,
    cost_estimate,
    is_e164,
    segments,
    send_sms,
)
from tests.sms.conftest import ACCOUNT_SID, AUTH_TOKEN, SERVICE_A

ANN = "+447700900001"


# --- Segments, cost, numbers (no database) -----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        # Extension characters take two septets: 80 euro signs fill one SMS, 81 need two.
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("[" * 80, 1),
        ("[" * 81, 2),  # 162 septets: two parts of at most 153
        # One character outside GSM-7 makes the whole text UCS-2: 70 and 67 per segment.
        ("ł" * 70, 1),
        ("ł" * 71, 2),
        ("ł" * 134, 2),
        ("ł" * 135, 3),
        ("a" * 69 + "ł", 1),
        # An emoji is two UTF-16 units.
        ("💪" * 35, 1),
        ("💪" * 36, 2),
        # Accented letters in the basic set stay GSM-7.
        ("é" * 160, 1),
    ],
)
def test_segments_count_gsm7_and_ucs2(body: str, expected: int) -> None:
    assert segments(body) == expected


def test_cost_estimate_is_segments_times_recipients_times_price(settings) -> None:
    settings.SMS_SEGMENT_PRICE = "0.0079"
    settings.SMS_PRICE_CURRENCY = "USD"
    estimate = cost_estimate("a" * 161, recipients=1000)
    assert estimate.segments == 2
    assert estimate.messages == 2000
    assert estimate.amount == Decimal("15.80")
    assert estimate.currency == "USD"
    assert cost_estimate("", recipients=10).amount == Decimal("0.00")


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+447700900123", True),
        ("+14155552671", True),
        ("07700900123", False),
        ("+44 7700 900123", False),
        ("+44770090012", False),
        ("+1", False),
        ("", False),
        (None, False),
    ],
)
def test_is_e164(phone, expected) -> None:  # type: ignore[no-untyped-def]
    assert is_e164(phone) is expected


# --- Sending ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_text_goes_out_through_the_gyms_messaging_service(twilio, gym_a, service_a) -> None:
    with tenant_context(gym_a):
        sid = send_sms(to=ANN, body="See you at 7!")
    assert sid.startswith("SM")
    [(method, path, form)] = twilio.requests
    assert (method, path) == ("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    assert form["To"] == ANN
    assert form["Body"] == "See you at 7!"
    assert form["MessagingServiceSid"] == SERVICE_A
    assert "From" not in form
    # Delivery reports come to the public host and name the gym (covered by the signature).
    assert form["StatusCallback"] == "http://localhost/integrations/twilio/status/?gym=alpha"
    assert twilio.messages[sid]["status"] == "accepted"


@pytest.mark.django_db
def test_a_sender_number_is_sent_as_from(twilio, gym_a, service_a) -> None:
    service_a.sender_number = "+447700900999"
    service_a.save()
    with tenant_context(gym_a):
        send_sms(to=ANN, body="Hi")
    assert twilio.message_calls()[0]["From"] == "+447700900999"


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["07700900001", "+44 7700 900001", "not a number", ""])
def test_a_number_that_is_not_e164_is_a_field_error_and_nothing_is_sent(
    twilio, gym_a, service_a, number
) -> None:
    with tenant_context(gym_a), pytest.raises(ValidationError) as caught:
        send_sms(to=number, body="Hi")
    assert "to" in caught.value.message_dict
    assert isinstance(caught.value, SmsError)
    assert twilio.requests == []


@pytest.mark.django_db
def test_an_empty_text_is_a_field_error(twilio, gym_a, service_a) -> None:
    with tenant_context(gym_a), pytest.raises(ValidationError) as caught:
        send_sms(to=ANN, body="  ")
    assert "body" in caught.value.message_dict
    assert twilio.requests == []


@pytest.mark.django_db
def test_a_gym_without_a_messaging_service_sends_nothing(twilio, gym_a, gym_b, service_b):
    with tenant_context(gym_a), pytest.raises(SmsNotConfiguredError):
        send_sms(to=ANN, body="Hi")
    assert twilio.requests == []


@pytest.mark.django_db
def test_without_platform_credentials_nothing_is_sent(twilio, settings, gym_a, service_a):
    settings.TWILIO_AUTH_TOKEN = ""
    with tenant_context(gym_a), pytest.raises(SmsNotConfiguredError):
        send_sms(to=ANN, body="Hi")
    assert twilio.requests == []


@pytest.mark.django_db
def test_a_suppressed_number_is_refused_before_any_request(twilio, gym_a, service_a) -> None:
    with tenant_context(gym_a):
        Suppression.objects.create(channel="sms", address=ANN, reason="stop")
        with pytest.raises(SmsSuppressedError):
            send_sms(to=ANN, body="Hi")
    assert twilio.requests == []


@pytest.mark.django_db
def test_twilio_21610_adds_the_number_to_our_list(twilio, gym_a, gym_b, service_a) -> None:
    twilio.opted_out.add(ANN)
    with tenant_context(gym_a):
        with pytest.raises(SmsSuppressedError) as caught:
            send_sms(to=ANN, body="Hi")
        assert caught.value.code == 21610
        assert Suppression.objects.filter(channel="sms", address=ANN).exists()
        # The next send stops here.
        with pytest.raises(SmsSuppressedError):
            send_sms(to=ANN, body="Hi again")
    assert len(twilio.message_calls()) == 1
    with tenant_context(gym_b):
        assert not Suppression.objects.filter(address=ANN).exists()


@pytest.mark.django_db
def test_twilio_21211_is_a_field_error_on_to(twilio, gym_a, service_a) -> None:
    twilio.invalid_numbers.add(ANN)
    with tenant_context(gym_a), pytest.raises(SmsInvalidNumberError) as caught:
        send_sms(to=ANN, body="Hi")
    assert caught.value.code == 21211
    assert "to" in caught.value.message_dict


@pytest.mark.django_db
def test_429_is_retryable_with_twilios_retry_after(twilio, gym_a, service_a) -> None:
    twilio.rate_limit_next = 1
    twilio.retry_after = "7"
    with tenant_context(gym_a), pytest.raises(SmsError) as caught:
        send_sms(to=ANN, body="Hi")
    assert caught.value.retryable
    assert caught.value.retry_after == 7.0
    with tenant_context(gym_a):
        assert send_sms(to=ANN, body="Hi").startswith("SM")


@pytest.mark.django_db
def test_the_fake_refuses_wrong_credentials(twilio, settings, gym_a, service_a) -> None:
    settings.TWILIO_AUTH_TOKEN = "wrong"
    with tenant_context(gym_a), pytest.raises(SmsError) as caught:
        send_sms(to=ANN, body="Hi")
    assert caught.value.code == 20003
    [(_, _, form)] = twilio.requests
    assert form["To"] == ANN


@pytest.mark.django_db
def test_twilio_unreachable_is_retryable(twilio, settings, gym_a, service_a) -> None:
    settings.TWILIO_BASE_URL = "http://127.0.0.1:9"
    with tenant_context(gym_a), pytest.raises(SmsError) as caught:
        send_sms(to=ANN, body="Hi")
    assert caught.value.retryable


def test_the_fakes_signature_is_twilios(settings) -> None:
    """The fake signs as Twilio documents it; the SDK's validator agrees."""
    from twilio.request_validator import RequestValidator

    from tests.fakes.twilio import twilio_signature

    params = {"MessageSid": "SM1", "MessageStatus": "sent", "AccountSid": ACCOUNT_SID}
    url = "https://example.com/integrations/twilio/status/?gym=alpha"
    signature = twilio_signature(AUTH_TOKEN, url, params)
    assert base64.b64decode(signature)
    assert RequestValidator(AUTH_TOKEN).validate(url, params, signature)
    assert gateway.SmsError("x").reason == "x"
