"""The SMS settings page: owners and managers set the gym's Messaging Service (checked, one
gym's only), see whether texts work and send themselves a test; nobody else may; gym A's
settings never reach gym B."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.notifications.models import Delivery
from apps.sms.models import GymMessagingService
from tests.conftest import GymClient
from tests.sms.conftest import SERVICE_A, SERVICE_B

pytestmark = pytest.mark.django_db

URL = "/settings/sms/"


def signed_in(crm, role: str) -> GymClient:  # type: ignore[no-untyped-def]
    client = GymClient(crm.gym.subdomain)
    client.force_login(crm.user(role))
    return client


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_management_sets_the_messaging_service(twilio, crm_a, role) -> None:
    browser = signed_in(crm_a, role)
    page = browser.get(URL)
    assert page.status_code == 200
    assert b'data-testid="sms-state"' in page.content
    assert b"Not set up" in page.content
    assert b"http://localhost/integrations/twilio/inbound/" in page.content
    response = browser.post(URL, {"service_sid": SERVICE_A, "sender_number": "07700 900999"})
    assert response.status_code == 302
    service = GymMessagingService.objects.get(gym=crm_a.gym)
    assert (service.service_sid, service.sender_number) == (SERVICE_A, "+447700900999")
    page = browser.get(URL)
    assert SERVICE_A.encode() in page.content
    assert b"Set up" in page.content
    with tenant_context(crm_a.gym):
        assert AuditEvent.objects.filter(action="sms.service_configured").exists()


@pytest.mark.parametrize("role", ["desk", "tina", "cara"])
def test_nobody_else_may(twilio, crm_a, role) -> None:
    browser = signed_in(crm_a, role)
    assert browser.get(URL).status_code == 403
    assert browser.post(URL, {"service_sid": SERVICE_A}).status_code == 403
    assert browser.post(f"{URL}test/", {"to": "+447700900001"}).status_code == 403
    assert browser.post(f"{URL}remove/").status_code == 403
    assert not GymMessagingService.objects.exists()
    assert twilio.requests == []


def test_anonymous_is_sent_to_log_in(crm_a) -> None:
    response = GymClient(crm_a.gym.subdomain).get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"service_sid": "PN123"}, b"service_sid"),
        ({"service_sid": "MG" + "Z" * 32}, b"service_sid"),
        ({"service_sid": ""}, b"service_sid"),
        ({"service_sid": SERVICE_A, "sender_number": "12"}, b"sender_number"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(twilio, crm_a, data, field) -> None:
    response = signed_in(crm_a, "owner").post(URL, data)
    assert response.status_code == 400
    assert field in response.content  # the field's error is on the form
    assert response.context["form"].errors
    assert not GymMessagingService.objects.exists()


def test_a_service_of_another_gym_is_refused(twilio, crm_a, crm_b, service_b) -> None:
    response = signed_in(crm_a, "owner").post(URL, {"service_sid": SERVICE_B})
    assert response.status_code == 400
    assert "service_sid" in response.context["form"].errors
    assert GymMessagingService.objects.get(service_sid=SERVICE_B).gym == crm_b.gym


def test_gym_a_settings_never_reach_gym_b(twilio, crm_a, crm_b, service_b) -> None:
    signed_in(crm_a, "owner").post(URL, {"service_sid": SERVICE_A})
    signed_in(crm_a, "owner").post(f"{URL}remove/")
    assert GymMessagingService.objects.get(gym=crm_b.gym).service_sid == SERVICE_B
    page = signed_in(crm_b, "owner").get(URL)
    assert SERVICE_B.encode() in page.content
    assert SERVICE_A.encode() not in page.content


def test_a_test_send_reaches_twilio_and_the_log(twilio, crm_a, service_a) -> None:
    browser = signed_in(crm_a, "owner")
    response = browser.post(f"{URL}test/", {"to": "07700 900123"}, follow=True)
    assert b"Test text sent" in response.content
    [form] = twilio.message_calls()
    assert form["To"] == "+447700900123"
    assert "Alpha Fitness" in form["Body"]
    with tenant_context(crm_a.gym):
        delivery = Delivery.objects.get(kind="sms_test")
        assert (delivery.status, delivery.provider_id) == ("sent", next(iter(twilio.messages)))
    twilio.deliver_status(delivery.provider_id)
    page = browser.get(URL)
    assert b'data-testid="sms-texts"' in page.content
    assert b"Delivered" in page.content


def test_a_failed_test_send_says_why(twilio, crm_a, service_a) -> None:
    twilio.opted_out.add("+447700900123")
    response = signed_in(crm_a, "owner").post(f"{URL}test/", {"to": "+447700900123"}, follow=True)
    assert b"was not sent" in response.content
    with tenant_context(crm_a.gym):
        assert Delivery.objects.get(kind="sms_test").status == "suppressed"


def test_a_bad_test_number_is_a_400_naming_the_field(twilio, crm_a, service_a) -> None:
    response = signed_in(crm_a, "owner").post(f"{URL}test/", {"to": "hello"})
    assert response.status_code == 400
    assert "to" in response.context["test_form"].errors
    assert twilio.requests == []


def test_switching_texts_off(twilio, crm_a, service_a) -> None:
    response = signed_in(crm_a, "owner").post(f"{URL}remove/")
    assert response.status_code == 302
    assert not GymMessagingService.objects.filter(gym=crm_a.gym).exists()


def test_the_page_runs_a_bounded_number_of_queries(
    twilio, crm_a, service_a, django_assert_max_num_queries
) -> None:
    browser = signed_in(crm_a, "owner")
    with tenant_context(crm_a.gym):
        for n in range(25):
            Delivery.objects.create(
                channel="sms", event_key=f"x:{n}", kind="reminder", address="+447700900001"
            )
    browser.get(URL)  # warm the session
    with django_assert_max_num_queries(20):
        page = browser.get(URL)
    assert page.content.count(b"+447700900001") == 10
