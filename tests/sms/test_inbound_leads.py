"""A text from a number no client has, through the fake Twilio's signed inbound callback:
it goes to the lead with that number, or makes a new lead (source "SMS", the text its first
note), and the staff who handle leads are told. STOP, START and HELP still come first, and a
forged or repeated callback changes nothing more."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.crm.models import Lead, LeadStatus
from apps.notifications.models import Notification, Suppression
from apps.sms import services
from tests.sms.conftest import INBOUND_URL, SERVICE_A

pytestmark = pytest.mark.django_db

STRANGER = "+447700900777"


def _leads(gym, phone: str = STRANGER) -> list[Lead]:  # type: ignore[no-untyped-def]
    with tenant_context(gym):
        return list(Lead.objects.filter(phone=phone).order_by("pk"))


def _told(gym) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with tenant_context(gym):
        return sorted(
            (n.recipient.role, n.title, n.body)
            for n in Notification.objects.filter(kind="lead_texted").select_related("recipient")
        )


def test_a_stranger_becomes_a_lead_and_the_desk_hears_of_it(twilio, crm_a, service_a) -> None:
    body = "Hi, do you have a beginners class on Saturdays?"
    assert twilio.inbound(frm=STRANGER, body=body, service_sid=SERVICE_A, url=INBOUND_URL) == 200
    [lead] = _leads(crm_a.gym)
    assert (lead.source, lead.first_name, lead.message) == ("SMS", STRANGER, body)
    assert lead.status == LeadStatus.NEW
    assert not lead.marketing_consent
    told = _told(crm_a.gym)
    # Owner, manager and front desk; not the trainers, not the clients.
    assert [role for role, _title, _body in told] == ["front_desk", "manager", "owner"]
    assert all(STRANGER in title and body in text for _role, title, text in told)


def test_a_lead_texting_again_gets_the_text_on_their_lead(twilio, crm_a, service_a) -> None:
    twilio.inbound(frm=STRANGER, body="First question", service_sid=SERVICE_A, url=INBOUND_URL)
    twilio.inbound(frm=STRANGER, body="And a second one", service_sid=SERVICE_A, url=INBOUND_URL)
    [lead] = _leads(crm_a.gym)
    assert lead.message.startswith("First question\n\nSMS ")
    assert lead.message.endswith(": And a second one")
    assert len(_told(crm_a.gym)) == 6  # three people, twice


def test_an_existing_open_lead_with_the_number_is_found(twilio, crm_a, service_a) -> None:
    with tenant_context(crm_a.gym):
        lost = Lead.objects.create(first_name="Old", phone=STRANGER, status=LeadStatus.LOST)
        open_lead = Lead.objects.create(first_name="Max", phone=STRANGER, message="Web form")
        Lead.objects.filter(pk=lost.pk).update(created_at=open_lead.created_at)
    twilio.inbound(frm=STRANGER, body="Still keen!", service_sid=SERVICE_A, url=INBOUND_URL)
    leads = _leads(crm_a.gym)
    assert len(leads) == 2
    by_name = {lead.first_name: lead for lead in leads}
    assert by_name["Max"].message.endswith(": Still keen!")
    assert by_name["Old"].message == ""
    titles = [title for _role, title, _body in _told(crm_a.gym)]
    assert titles == ["Max sent a text"] * 3


def test_stop_start_and_help_come_first(twilio, crm_a, service_a) -> None:
    for keyword in ("STOP", "START", "HELP"):
        assert (
            twilio.inbound(frm=STRANGER, body=keyword, service_sid=SERVICE_A, url=INBOUND_URL)
            == 200
        )
    assert _leads(crm_a.gym) == []
    assert _told(crm_a.gym) == []
    twilio.inbound(frm=STRANGER, body="STOP", service_sid=SERVICE_A, url=INBOUND_URL)
    with tenant_context(crm_a.gym):
        assert Suppression.objects.filter(channel="sms", address=STRANGER).exists()


def test_a_repeated_or_forged_callback_makes_no_second_lead(twilio, crm_a, service_a) -> None:
    params = twilio.inbound_params(frm=STRANGER, body="Once", service_sid=SERVICE_A)
    assert twilio.post(INBOUND_URL, params) == 200
    assert twilio.post(INBOUND_URL, params) == 200
    forged = twilio.inbound_params(frm="+447700900778", body="Forged", service_sid=SERVICE_A)
    assert twilio.post(INBOUND_URL, forged, signature="forged") == 403
    assert len(_leads(crm_a.gym)) == 1
    assert _leads(crm_a.gym, "+447700900778") == []
    assert len(_told(crm_a.gym)) == 3


def test_a_client_still_goes_to_their_conversation_not_to_a_lead(twilio, crm_a, service_a) -> None:
    ann = "+447700900001"
    twilio.inbound(frm=ann, body="Late today", service_sid=SERVICE_A, url=INBOUND_URL)
    assert _leads(crm_a.gym, ann) == []
    assert _told(crm_a.gym) == []


def test_gym_a_strangers_never_reach_gym_b(twilio, crm_a, crm_b, service_a) -> None:
    twilio.inbound(frm=STRANGER, body="Hello", service_sid=SERVICE_A, url=INBOUND_URL)
    assert len(_leads(crm_a.gym)) == 1
    assert _leads(crm_b.gym) == []
    assert _told(crm_b.gym) == []


def test_a_text_that_makes_no_lead_is_dropped_quietly(crm_a) -> None:
    # A number that cannot be dialled (not one the CRM keeps) is logged, not a 500.
    with tenant_context(crm_a.gym):
        assert services.inbound_to_lead(phone="+999", body="Hi") is None
        assert not Lead.objects.filter(phone="+999").exists()


def test_a_new_lead_by_sms_gets_the_gyms_lead_rule_answer_by_sms(
    twilio, crm_a, service_a, django_capture_on_commit_callbacks
) -> None:
    from apps.automations import services as automations
    from apps.automations.models import Run, RunStatus, Trigger

    with tenant_context(crm_a.gym):
        rule = automations.rule_create(
            actor=crm_a.owner,
            name="Answer texts",
            trigger=Trigger.LEAD_CREATED,
            steps=[{"action": "sms", "body": "Thanks for your text! {{ gym_name }}"}],
            enabled=True,
        )
    with django_capture_on_commit_callbacks(execute=True):
        twilio.inbound(frm=STRANGER, body="Prices?", service_sid=SERVICE_A, url=INBOUND_URL)
    [lead] = _leads(crm_a.gym)
    with tenant_context(crm_a.gym):
        run = Run.objects.get(rule=rule, lead=lead)
        assert run.status == RunStatus.DONE, run.log
    [form] = twilio.message_calls()
    assert form["To"] == STRANGER
    assert form["Body"].startswith("Thanks for your text! Alpha Fitness")
