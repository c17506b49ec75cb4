"""Campaign pages: owners and managers only, the editor with its live count, preview, test
send, send and schedule; bad input named; bounded queries; gym B's campaigns out of reach."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from apps.campaigns import services
from apps.campaigns.models import Campaign, CampaignStatus, Segment
from tests.campaigns.conftest import browser_as, make_client
from tests.crm.conftest import CrmGym


def _campaign(crm: CrmGym, name: str = "News") -> Campaign:
    with tenant_context(crm.gym):
        segment = Segment.objects.filter(name="All").first() or services.segment_create(
            actor=crm.owner, name="All", definition={}
        )
        return services.campaign_create(
            actor=crm.owner,
            name=name,
            channel="email",
            segment=segment,
            subject="Hello {{ first_name }}",
            body="See https://example.com",
        )


def test_only_owners_and_managers_open_campaigns(crm_a: CrmGym) -> None:
    campaign = _campaign(crm_a)
    for role in ("owner", "manager"):
        browser = browser_as(crm_a, role)
        for path in (
            "/campaigns/",
            "/campaigns/new/",
            "/campaigns/audiences/new/",
            f"/campaigns/{campaign.pk}/",
            f"/campaigns/{campaign.pk}/preview/",
        ):
            assert browser.get(path).status_code == 200, (role, path)
    for role in ("desk", "tina", "cara"):
        browser = browser_as(crm_a, role)
        assert browser.get("/campaigns/").status_code == 403
        assert browser.post(f"/campaigns/{campaign.pk}/send/").status_code == 403


def test_the_list_runs_a_bounded_number_of_queries(
    crm_a: CrmGym, django_assert_max_num_queries
) -> None:
    for n in range(3):
        _campaign(crm_a, f"C{n}")
    browser = browser_as(crm_a, "owner")
    browser.get("/campaigns/")
    with django_assert_max_num_queries(20):
        assert browser.get("/campaigns/").status_code == 200
    for n in range(3, 15):
        _campaign(crm_a, f"C{n}")
    with django_assert_max_num_queries(20):
        page = browser.get("/campaigns/")
    assert page.content.decode().count("/campaigns/") > 15


def test_an_audience_is_saved_and_counted_live(crm_a: CrmGym) -> None:
    with tenant_context(crm_a.gym):
        make_client("Ava", "ava@example.com", tags=["yoga"])
        make_client("Ben", "ben@example.com")
    browser = browser_as(crm_a, "manager")
    count = browser.get("/campaigns/audiences/count/", {"tags": "yoga"}, HTTP_HX_REQUEST="true")
    assert count.status_code == 200
    assert '<strong class="campaign-count-number">1</strong>' in count.content.decode()
    bad = browser.get("/campaigns/audiences/count/", {"birthday_month": "13"})
    assert "errors" in bad.content.decode()
    response = browser.post(
        "/campaigns/audiences/new/", {"name": "Yoga", "tags": "yoga", "status": ["active"]}
    )
    assert response.status_code == 302
    with tenant_context(crm_a.gym):
        segment = Segment.objects.get(name="Yoga")
        assert segment.definition == {"status": ["active"], "tags": ["yoga"]}
    response = browser.post("/campaigns/audiences/new/", {"name": "", "adherence_below": "150"})
    assert response.status_code == 400
    assert "adherence_below" in response.content.decode()


def test_the_editor_refuses_an_unknown_placeholder_with_a_400_naming_the_field(
    crm_a: CrmGym,
) -> None:
    campaign = _campaign(crm_a)
    browser = browser_as(crm_a, "owner")
    response = browser.post(
        f"/campaigns/{campaign.pk}/",
        {
            "name": "News",
            "channel": "email",
            "segment": campaign.segment_id,
            "subject": "Hi {{ nick }}",
            "body": "Body",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "id_subject-error" in page
    assert "nick" in page
    with tenant_context(crm_a.gym):
        campaign.refresh_from_db()
        assert campaign.subject == "Hello {{ first_name }}"


def test_preview_is_the_branded_mail_in_a_sandbox(crm_a: CrmGym) -> None:
    with tenant_context(crm_a.gym):
        make_client("Pia", "pia@example.com")
    campaign = _campaign(crm_a)
    response = browser_as(crm_a, "owner").get(f"/campaigns/{campaign.pk}/preview/")
    assert response.status_code == 200
    page = response.content.decode()
    assert crm_a.gym.name in page
    assert "https://example.com" in page
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_send_now_and_schedule_from_the_editor(
    crm_a: CrmGym, django_capture_on_commit_callbacks
) -> None:
    browser = browser_as(crm_a, "owner")
    scheduled = _campaign(crm_a, "Later")
    bad = browser.post(f"/campaigns/{scheduled.pk}/schedule/", {"send_at": "soon"})
    assert bad.status_code == 400
    assert "send_at" in bad.content.decode()
    past = browser.post(f"/campaigns/{scheduled.pk}/schedule/", {"send_at": "2020-01-01T09:00"})
    assert past.status_code == 400
    ok = browser.post(f"/campaigns/{scheduled.pk}/schedule/", {"send_at": "2099-01-01T09:00"})
    assert ok.status_code == 303
    now = _campaign(crm_a, "Now")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert browser.post(f"/campaigns/{now.pk}/send/").status_code == 303
    assert len(callbacks) == 1
    with tenant_context(crm_a.gym):
        assert Campaign.objects.get(pk=scheduled.pk).status == CampaignStatus.SCHEDULED
        assert Campaign.objects.get(pk=now.pk).status == CampaignStatus.SENDING
    # Started: the page shows figures, and the campaign can no longer be edited.
    page = browser.get(f"/campaigns/{now.pk}/")
    assert page.status_code == 200
    assert b'data-testid="figures"' in page.content
    assert browser.post(f"/campaigns/{now.pk}/send/").status_code == 303
    with tenant_context(crm_a.gym):
        assert Campaign.objects.get(pk=now.pk).status == CampaignStatus.SENDING


def test_gym_b_cannot_reach_gym_a_campaigns(crm_a: CrmGym, crm_b: CrmGym) -> None:
    campaign = _campaign(crm_a)
    browser = browser_as(crm_b, "owner")
    for path in (
        f"/campaigns/{campaign.pk}/",
        f"/campaigns/{campaign.pk}/preview/",
        f"/campaigns/audiences/{campaign.segment_id}/",
    ):
        assert browser.get(path).status_code == 404
    for path in (
        f"/campaigns/{campaign.pk}/send/",
        f"/campaigns/{campaign.pk}/cancel/",
        f"/campaigns/{campaign.pk}/test/",
    ):
        assert browser.post(path).status_code == 404
    with tenant_context(crm_a.gym):
        assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT
