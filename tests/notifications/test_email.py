"""Email end to end: through Django's SMTP backend to a real SMTP server on loopback, chosen by
EMAIL_URL; the gym's sender; provider URLs."""

from __future__ import annotations

import pytest

from apps.notifications.email import backend_for_url, build_email
from apps.notifications.models import Delivery, DeliveryStatus
from apps.notifications.services import notify
from tests.fakes.smtp import FakeSmtpServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):  # type: ignore[no-untyped-def]
    with FakeSmtpServer() as server:
        settings.EMAIL_URL = f"smtp://{server.host}:{server.port}"
        settings.DEFAULT_FROM_EMAIL = "FitnessCRM <no-reply@fitnesscrm.example>"
        yield server


def test_a_notification_arrives_over_smtp_branded_text_and_html(
    people, smtp, django_capture_on_commit_callbacks
):
    people.gym.email_sender = "hello@alpha.example"
    people.gym.contact_phone = "+34 600 000 000"
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            kind="class_cancelled",
            recipient=people.wanda,
            context={"what": "Spin", "when": "Tue 8 Dec, 07:00"},
            event_key="cancel:9",
            url="/portal/schedule/",
        )
    [mail] = smtp.messages
    message = mail.message
    assert mail.rcpt_tos == ["wanda@example.com"]
    # Not verified: the platform's address carries it, under the gym's name; replies reach the gym.
    assert mail.mail_from == "no-reply@fitnesscrm.example"
    assert message["From"] == "Alpha Fitness <no-reply@fitnesscrm.example>"
    assert message["Reply-To"] == "hello@alpha.example"
    assert message["Subject"] == "Cancelled: Spin on Tue 8 Dec, 07:00"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Spin on Tue 8 Dec, 07:00 is cancelled" in text
    assert "+34 600 000 000" in text  # the gym's signature
    assert "http://alpha.localhost/portal/schedule/" in text
    assert people.gym.brand_colour in html
    assert "Alpha Fitness" in html
    assert 'href="http://alpha.localhost/portal/schedule/"' in html
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider == "smtp"


def test_a_verified_sender_sends_as_the_gym(people, smtp) -> None:
    people.gym.email_sender = "hello@alpha.example"
    people.gym.email_sender_verified = True
    build_email(to="x@example.com", subject="Hi", text="Hello", category="transactional").send()
    [mail] = smtp.messages
    assert mail.mail_from == "hello@alpha.example"
    assert mail.message["From"] == "Alpha Fitness <hello@alpha.example>"
    assert mail.message["Reply-To"] is None


def test_marketing_mail_uses_its_own_connection(people, smtp, settings) -> None:
    with FakeSmtpServer() as marketing:
        settings.MARKETING_EMAIL_URL = f"smtp://{marketing.host}:{marketing.port}"
        build_email(to="a@example.com", subject="News", text="Hi", category="marketing").send()
        build_email(
            to="b@example.com", subject="Booked", text="Hi", category="transactional"
        ).send()
        assert [m.rcpt_tos for m in marketing.messages] == [["a@example.com"]]
    assert [m.rcpt_tos for m in smtp.messages] == [["b@example.com"]]


def test_a_refused_recipient_fails_without_retrying(
    people, smtp, django_capture_on_commit_callbacks
):
    from smtplib import SMTPRecipientsRefused
    from unittest import mock

    refused = SMTPRecipientsRefused({"wanda@example.com": (550, b"no such user")})
    with (
        mock.patch("django.core.mail.message.EmailMessage.send", side_effect=refused),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notify(kind="test", recipient=people.wanda, context={}, event_key="refused:1")
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert "refused" in delivery.error


def test_a_server_that_is_down_is_retried_then_failed(
    people, settings, celery_retries_run_eagerly, django_capture_on_commit_callbacks
):
    settings.EMAIL_URL = "smtp://127.0.0.1:9?timeout=1"  # nothing listens on the discard port
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind="test", recipient=people.wanda, context={}, event_key="down:1")
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 7  # the first try and six retries (eager: no waiting)
    assert "refused" in delivery.error.lower()


def test_a_transient_failure_goes_back_to_the_queue(people, settings) -> None:
    from apps.notifications.services import RetryableSendError, delivery_send
    from apps.notifications.tasks import deliver

    settings.EMAIL_URL = "smtp://127.0.0.1:9?timeout=1"
    notify(kind="test", recipient=people.wanda, context={}, event_key="down:2")
    delivery = Delivery.objects.get()
    with pytest.raises(RetryableSendError):
        delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 1)
    assert delivery.error
    # Exponential backoff with jitter, capped under the broker's visibility timeout.
    assert deliver.autoretry_for == (RetryableSendError,)
    assert deliver.retry_backoff == 30
    assert deliver.retry_jitter is True
    assert deliver.retry_backoff_max < settings.CELERY_VISIBILITY_TIMEOUT


def test_in_development_a_failed_send_does_not_break_the_request(
    people, settings, django_capture_on_commit_callbacks
) -> None:
    settings.EMAIL_URL = "smtp://127.0.0.1:9?timeout=1"
    with django_capture_on_commit_callbacks(execute=True):
        notify(kind="test", recipient=people.wanda, context={}, event_key="down:3")
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.error


@pytest.mark.parametrize(
    ("url", "backend", "options"),
    [
        (
            "anymail+postmark://server-token@",
            "anymail.backends.postmark.EmailBackend",
            {"server_token": "server-token"},
        ),
        (
            "anymail+mailgun://key-123@?sender_domain=mg.example.com",
            "anymail.backends.mailgun.EmailBackend",
            {"api_key": "key-123", "sender_domain": "mg.example.com"},
        ),
        (
            "smtps://user:p%40ss@smtp.example.com",
            "django.core.mail.backends.smtp.EmailBackend",
            {
                "host": "smtp.example.com",
                "port": 465,
                "username": "user",
                "password": "p@ss",
                "use_ssl": True,
                "use_tls": False,
            },
        ),
    ],
)
def test_email_urls(url, backend, options) -> None:  # type: ignore[no-untyped-def]
    assert backend_for_url(url) == (backend, options)


def test_an_unknown_email_url_is_an_error() -> None:
    with pytest.raises(ValueError, match="scheme"):
        backend_for_url("carrier-pigeon://x")


def test_the_gym_sets_its_sender_and_a_new_one_needs_verifying_again(people) -> None:
    from django.core.exceptions import ValidationError

    from apps.tenants.services import gym_identity_update

    people.gym.email_sender = "old@alpha.example"
    people.gym.email_sender_verified = True
    people.gym.save()
    gym = gym_identity_update(actor=people.owner, gym=people.gym, email_sender="New@Alpha.example")
    assert gym.email_sender == "new@alpha.example"
    assert gym.email_sender_verified is False
    with pytest.raises(ValidationError) as caught:
        gym_identity_update(actor=people.owner, gym=people.gym, email_sender="not an address")
    assert "email_sender" in caught.value.message_dict
