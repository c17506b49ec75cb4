"""Rules about new leads answer the lead itself: an email over a real SMTP server on loopback,
a text through the fake Twilio when the lead left a number and the gym sends texts. It is an
answer to their enquiry (transactional): no marketing consent needed, but the suppression list
holds, and a lead that converted, was lost or enquired long ago gets nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.automations import services
from apps.automations.models import Run, RunStatus, StaffTask, Trigger
from apps.crm import services as crm_services
from apps.crm.models import Lead, LeadStatus
from apps.notifications.models import Delivery, Suppression
from tests.automations.conftest import make_rule
from tests.crm.conftest import CrmGym
from tests.fakes.smtp import FakeSmtpServer
from tests.sms.conftest import SERVICE_A

pytestmark = pytest.mark.django_db

LEAD_PHONE = "+447700900555"


@pytest.fixture
def smtp_server(settings) -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        for name, value in server.settings_overrides.items():
            setattr(settings, name, value)
        yield server


def _email_step(delay_minutes: int = 0) -> dict:  # type: ignore[type-arg]
    return {
        "action": "email",
        "delay_minutes": delay_minutes,
        "subject": "Thanks, {{ first_name }}",
        "body": "Hi {{ full_name }}, {{ gym_name }} will call you.",
    }


def _sms_step() -> dict:  # type: ignore[type-arg]
    return {"action": "sms", "delay_minutes": 0, "body": "Hi {{ first_name }}, when suits you?"}


def _capture(capture, **fields) -> Lead:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return crm_services.lead_capture(first_name="Lou", last_name="Reed", **fields)


def test_a_new_lead_gets_the_email_once_over_smtp(
    crm_a: CrmGym, smtp_server: FakeSmtpServer, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(crm_a.gym):
        rule = make_rule(
            crm_a,
            Trigger.LEAD_CREATED,
            [_email_step(), {"action": "create_task", "title": "Call {{ full_name }}"}],
        )
        lead = _capture(django_capture_on_commit_callbacks, email="lou@example.com")
        run = Run.objects.get(rule=rule, lead=lead)
        assert run.status == RunStatus.DONE, run.log
        assert StaffTask.objects.filter(lead=lead).count() == 1
        # The step again (a retried task): nothing more is sent.
        with django_capture_on_commit_callbacks(execute=True):
            services._send_message(
                run, 0, rule.steps[0], services.text_context(client=None, lead=lead)
            )
        delivery = Delivery.objects.get(channel="email", address="lou@example.com")
        assert delivery.category == "transactional"
        assert delivery.recipient_client is None
        assert delivery.recipient_user is None
    [message] = smtp_server.messages
    assert message.rcpt_tos == ["lou@example.com"]
    assert message.message["Subject"] == "Thanks, Lou"
    assert "Hi Lou Reed, Alpha Fitness will call you." in message.body


def test_a_lead_with_a_number_gets_a_text_when_the_gym_sends_texts(
    crm_a: CrmGym, twilio, service_a, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(crm_a.gym):
        rule = make_rule(crm_a, Trigger.LEAD_CREATED, [_email_step(), _sms_step()])
        # Only a number: the email is skipped (logged), the text goes.
        lead = _capture(django_capture_on_commit_callbacks, phone=LEAD_PHONE)
        run = Run.objects.get(rule=rule, lead=lead)
        assert run.status == RunStatus.DONE, run.log
        assert "Not sent" in run.log[0]["detail"]
        delivery = Delivery.objects.get(channel="sms")
        assert delivery.status == "sent", delivery.error
    [form] = twilio.message_calls()
    assert (form["To"], form["MessagingServiceSid"]) == (LEAD_PHONE, SERVICE_A)
    assert "Hi Lou, when suits you?" in form["Body"]


def test_no_text_without_the_gyms_sms_and_none_after_stop(
    crm_a: CrmGym, twilio, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(crm_a.gym):
        rule = make_rule(crm_a, Trigger.LEAD_CREATED, [_sms_step()])
        lead = _capture(django_capture_on_commit_callbacks, phone=LEAD_PHONE)
        run = Run.objects.get(rule=rule, lead=lead)
        assert run.log[0]["detail"] == "Not sent: the gym does not send texts."
        assert not Delivery.objects.filter(channel="sms").exists()
    assert twilio.message_calls() == []


def test_the_suppression_list_holds_for_leads(
    crm_a: CrmGym, smtp_server: FakeSmtpServer, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(crm_a.gym):
        Suppression.objects.create(channel="email", address="lou@example.com", reason="bounce")
        make_rule(crm_a, Trigger.LEAD_CREATED, [_email_step()])
        _capture(django_capture_on_commit_callbacks, email="lou@example.com")
        delivery = Delivery.objects.get(channel="email", address="lou@example.com")
        assert delivery.status == "suppressed"
    assert smtp_server.messages == []


@pytest.mark.parametrize("change", ["converted", "lost", "old"])
def test_a_converted_lost_or_old_lead_gets_nothing(
    crm_a: CrmGym, smtp_server: FakeSmtpServer, django_capture_on_commit_callbacks, change
) -> None:
    with tenant_context(crm_a.gym):
        rule = make_rule(crm_a, Trigger.LEAD_CREATED, [_email_step(delay_minutes=60)])
        lead = _capture(django_capture_on_commit_callbacks, email="lou@example.com")
        if change == "converted":
            crm_services.lead_convert(actor=crm_a.owner, lead=lead)
        elif change == "lost":
            crm_services.lead_update_status(actor=crm_a.owner, lead=lead, status=LeadStatus.LOST)
        else:
            Lead.objects.filter(pk=lead.pk).update(created_at=timezone.now() - timedelta(days=40))
        with django_capture_on_commit_callbacks(execute=True):
            assert services.due_steps_run(now=timezone.now() + timedelta(hours=2)) == 1
        run = Run.objects.get(rule=rule, lead=lead)
        assert run.status == RunStatus.DONE
        assert run.log[0]["detail"].startswith("Not sent:")
        assert not Delivery.objects.filter(address="lou@example.com").exists()
    assert smtp_server.messages == []


def test_lead_rules_still_refuse_what_a_lead_has_not(crm_a: CrmGym) -> None:
    from django.core.exceptions import ValidationError

    with tenant_context(crm_a.gym):
        for step in (
            {"action": "in_app", "body": "Hi"},
            {"action": "notify_trainer", "subject": "x", "body": "y"},
            {"action": "add_tag", "tag": "x"},
        ):
            with pytest.raises(ValidationError):
                make_rule(crm_a, Trigger.LEAD_CREATED, [step])


def test_the_ready_made_lead_follow_up_writes_to_the_lead(
    crm_a: CrmGym, twilio, django_capture_on_commit_callbacks
) -> None:
    from apps.sms.models import GymMessagingService

    with tenant_context(crm_a.gym):
        without = services.rule_create_from_preset(actor=crm_a.owner, key="lead_follow_up")
        assert [step["action"] for step in without.steps] == ["email", "create_task", "create_task"]
    GymMessagingService.objects.create(gym=crm_a.gym, service_sid=SERVICE_A)
    with tenant_context(crm_a.gym):
        rule = services.rule_create_from_preset(actor=crm_a.owner, key="lead_follow_up")
        assert [step["action"] for step in rule.steps] == [
            "email",
            "create_task",
            "sms",
            "create_task",
        ]
        services.rule_set_enabled(actor=crm_a.owner, rule=rule, enabled=True)
        lead = _capture(django_capture_on_commit_callbacks, phone=LEAD_PHONE)
        # A day later the text goes; three days after the enquiry, the reminder task.
        with django_capture_on_commit_callbacks(execute=True):
            services.due_steps_run(now=timezone.now() + timedelta(days=1, minutes=1))
        run = Run.objects.get(rule=rule, lead=lead)
        assert [entry["ok"] for entry in run.log] == [True, True, True]
        assert Delivery.objects.get(channel="sms").status == "sent"
    [form] = twilio.message_calls()
    assert form["To"] == LEAD_PHONE
