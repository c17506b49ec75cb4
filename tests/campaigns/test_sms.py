"""SMS campaigns: segments and cost shown before sending, each consenting client texted once
through the gym's Messaging Service (a fake Twilio on loopback), Twilio's report moving the
delivery to delivered, and a number that replied STOP left out."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from apps.campaigns import services
from apps.campaigns.selectors import campaign_figures
from apps.crm.models import Client, ConsentKind
from apps.notifications.models import Delivery
from tests.campaigns.conftest import browser_as, consent
from tests.sms.conftest import INBOUND_URL, SERVICE_A, service_a, twilio  # noqa: F401

ANN = "+447700900001"


def test_an_sms_campaign_is_estimated_then_texted_once_per_consenting_client(
    twilio,  # noqa: F811
    crm_a,
    service_a,  # noqa: F811
    django_capture_on_commit_callbacks,
) -> None:
    with tenant_context(crm_a.gym):
        ann = Client.objects.get(pk=crm_a.ann.pk)
        assert ann.phone == ANN
        consent(ann, kind=ConsentKind.SMS)
        bob = Client.objects.get(pk=crm_a.bob.pk)
        Client.objects.filter(pk=bob.pk).update(phone="+447700900002")
        consent(bob, kind=ConsentKind.SMS)
        segment = services.segment_create(actor=crm_a.owner, name="Texts", definition={})
        campaign = services.campaign_create(
            actor=crm_a.owner,
            name="Open day",
            channel="sms",
            segment=segment,
            subject="",
            body="Hi {{ first_name }}, open day at {{ gym_name }} on Saturday! " * 4,
        )
    twilio.inbound(frm="+447700900002", body="STOP", service_sid=SERVICE_A, url=INBOUND_URL)

    page = browser_as(crm_a, "owner").get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="sms-estimate"' in page
    assert "2 segments per message" in page

    with tenant_context(crm_a.gym):
        with django_capture_on_commit_callbacks(execute=False):
            services.campaign_send_now(actor=crm_a.owner, campaign=campaign)
        result = services.campaign_deliver(campaign_id=campaign.pk)
        assert result.sent == 1
        services.campaign_deliver(campaign_id=campaign.pk)
    [form] = twilio.message_calls()
    assert (form["To"], form["MessagingServiceSid"]) == (ANN, SERVICE_A)
    assert form["Body"].startswith("Hi Ann, open day at Alpha Fitness")
    with tenant_context(crm_a.gym):
        delivery = Delivery.objects.get(group_key=campaign.group_key)
        assert (delivery.channel, delivery.status, delivery.provider) == ("sms", "sent", "twilio")
    twilio.deliver_status(delivery.provider_id)
    with tenant_context(crm_a.gym):
        figures = campaign_figures(campaign)
        assert (figures.recipients, figures.sent, figures.delivered) == (1, 1, 1)
