"""Automation messages go through the notification service: an email reaches a real SMTP
server on loopback once, an in-app message lands in the client's centre, the trainer is
notified, and a channel the client does not take is logged without stopping the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django_tenants.utils import tenant_context

from apps.automations import services
from apps.automations.models import Run, RunStatus, Trigger
from apps.crm import services as crm_services
from apps.notifications.models import Delivery, Notification
from tests.automations.conftest import make_rule, tag_step
from tests.crm.conftest import CrmGym
from tests.fakes.smtp import FakeSmtpServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp_server(settings) -> Iterator[FakeSmtpServer]:
    """A real SMTP server on loopback, with Django's SMTP backend pointed at it."""
    with FakeSmtpServer() as server:
        for name, value in server.settings_overrides.items():
            setattr(settings, name, value)
        yield server


def test_an_email_step_is_delivered_once_over_smtp(
    crm_a: CrmGym, smtp_server: FakeSmtpServer, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(crm_a.gym):
        rule = make_rule(
            crm_a,
            Trigger.CLIENT_CREATED,
            [
                {
                    "action": "email",
                    "subject": "Welcome, {{ first_name }}",
                    "body": "Hi {{ full_name }}, welcome to {{ gym_name }}.",
                }
            ],
        )
        with django_capture_on_commit_callbacks(execute=True):
            nia = crm_services.client_create(
                actor=crm_a.owner, first_name="Nia", last_name="Long", email="nia@example.com"
            )
        run = Run.objects.get(rule=rule, client=nia)
        assert run.status == RunStatus.DONE, run.log
        # The step again (a retried task): notify() finds the delivery and sends nothing.
        with django_capture_on_commit_callbacks(execute=True):
            services._send_message(
                run, 0, rule.steps[0], services.text_context(client=nia, lead=None)
            )
        assert Delivery.objects.filter(recipient_client=nia, channel="email").count() == 1
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message.rcpt_tos == ["nia@example.com"]
    assert message.message["Subject"] == "Welcome, Nia"
    assert "Hi Nia Long, welcome to Alpha Fitness." in message.body


def test_in_app_to_the_client_and_a_note_to_their_trainer(
    crm_a: CrmGym, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(crm_a.gym):
        rule = make_rule(
            crm_a,
            Trigger.BIRTHDAY,
            [
                {"action": "in_app", "body": "Happy birthday {{ first_name }}!"},
                {
                    "action": "notify_trainer",
                    "subject": "Birthday",
                    "body": "It is {{ full_name }}'s birthday (trainer {{ trainer_name }}).",
                },
            ],
        )
        run = Run.objects.create(rule=rule, occurrence_key="b:1", client=crm_a.cara)
        run.due_at = run.created_at
        run.save(update_fields=["due_at"])
        with django_capture_on_commit_callbacks(execute=True):
            assert services.due_steps_run() == 2
        run.refresh_from_db()
        assert run.status == RunStatus.DONE, run.log
        cara = Notification.objects.get(recipient=crm_a.cara_user)
        assert "Happy birthday Cara!" in cara.body
        tom = Notification.objects.get(recipient=crm_a.tom.user)
        assert "Cara Cole's birthday (trainer Tom Coach)" in tom.body


def test_a_channel_the_client_does_not_take_is_logged_and_the_run_goes_on(
    crm_a: CrmGym, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(crm_a.gym):
        rule = make_rule(
            crm_a,
            Trigger.BIRTHDAY,
            [{"action": "sms", "body": "Happy birthday!"}, tag_step("birthday")],
        )
        run = Run.objects.create(rule=rule, occurrence_key="b:2", client=crm_a.bob)
        run.due_at = run.created_at
        run.save(update_fields=["due_at"])
        with django_capture_on_commit_callbacks(execute=True):
            services.due_steps_run()
        run.refresh_from_db()
        assert run.status == RunStatus.DONE
        assert "Not sent" in run.log[0]["detail"]
        assert not Delivery.objects.filter(recipient_client=crm_a.bob).exists()
        crm_a.bob.refresh_from_db()
        assert "birthday" in crm_a.bob.tags
