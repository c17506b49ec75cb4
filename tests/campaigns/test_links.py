"""The links in campaign mail: signed unsubscribe (page, button, RFC 8058 one-click POST),
tracked click redirects, tampered links refused with nothing changed, and gym A's links on gym
B's host doing nothing."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import tenant_context

from apps.campaigns import services
from apps.campaigns.links import click_token, unsubscribe_token
from apps.campaigns.models import CampaignResponse, ResponseKind
from apps.campaigns.selectors import campaign_figures
from apps.crm.models import Consent, ConsentKind
from apps.crm.selectors import consent_given
from apps.notifications.models import Suppression
from tests.campaigns.conftest import make_client
from tests.crm.conftest import CrmGym


@pytest.fixture
def campaign_a(crm_a: CrmGym):  # type: ignore[no-untyped-def]
    with tenant_context(crm_a.gym):
        segment = services.segment_create(actor=crm_a.owner, name="All", definition={})
        campaign = services.campaign_create(
            actor=crm_a.owner,
            name="News",
            channel="email",
            segment=segment,
            subject="News",
            body="Read https://example.com/news",
        )
        member = make_client("Mia", "Mia@Example.com")
    return campaign, member


def _tokens(crm: CrmGym, campaign, member):  # type: ignore[no-untyped-def]
    with tenant_context(crm.gym):
        return (
            unsubscribe_token(campaign_id=campaign.pk, client_id=member.pk),
            click_token(
                campaign_id=campaign.pk, client_id=member.pk, url="https://example.com/news"
            ),
        )


def _state(crm: CrmGym, member):  # type: ignore[no-untyped-def]
    with tenant_context(crm.gym):
        return (
            Consent.objects.filter(client=member).count(),
            Suppression.objects.count(),
            CampaignResponse.objects.count(),
        )


def test_the_one_click_post_unsubscribes_without_a_page(crm_a: CrmGym, campaign_a) -> None:
    campaign, member = campaign_a
    token, _click = _tokens(crm_a, campaign, member)
    browser = HttpClient(HTTP_HOST=crm_a.host, enforce_csrf_checks=True)
    # A link checker or a person opening the link changes nothing.
    page = browser.get(f"/campaigns/u/{token}/")
    assert page.status_code == 200
    assert b"confirm-unsubscribe" in page.content
    with tenant_context(crm_a.gym):
        assert consent_given(client=member, kind=ConsentKind.MARKETING_EMAIL)
    # RFC 8058: the mail provider POSTs List-Unsubscribe=One-Click, no cookie, no CSRF token.
    response = browser.post(
        f"/campaigns/u/{token}/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    with tenant_context(crm_a.gym):
        assert not consent_given(client=member, kind=ConsentKind.MARKETING_EMAIL)
        assert Suppression.objects.filter(
            channel="email", address="mia@example.com", reason="unsubscribe"
        ).exists()
        assert campaign_figures(campaign).unsubscribed == 1
    # Twice is once.
    assert browser.post(f"/campaigns/u/{token}/").status_code == 200
    assert _state(crm_a, member) == (2, 1, 1)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_unsubscribe_link_is_a_400_and_changes_nothing(
    crm_a: CrmGym, campaign_a, method: str
) -> None:
    campaign, member = campaign_a
    token, click = _tokens(crm_a, campaign, member)
    before = _state(crm_a, member)
    browser = HttpClient(HTTP_HOST=crm_a.host)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "x", click):
        response = getattr(browser, method)(f"/campaigns/u/{bad}/")
        assert response.status_code == 400
        assert b"bad-link" in response.content
    assert _state(crm_a, member) == before


def test_a_click_is_counted_per_recipient_and_redirects_to_the_signed_target(
    crm_a: CrmGym, campaign_a
) -> None:
    campaign, member = campaign_a
    _token, click = _tokens(crm_a, campaign, member)
    browser = HttpClient(HTTP_HOST=crm_a.host)
    for _ in range(3):
        response = browser.get(f"/campaigns/r/{click}/")
        assert response.status_code == 302
        assert response["Location"] == "https://example.com/news"
    with tenant_context(crm_a.gym):
        row = CampaignResponse.objects.get(kind=ResponseKind.CLICK)
        assert (row.client_id, row.count) == (member.pk, 3)
        figures = campaign_figures(campaign)
        assert (figures.clicked, figures.clicks) == (1, 3)


def test_a_tampered_click_link_redirects_nowhere(crm_a: CrmGym, campaign_a) -> None:
    campaign, member = campaign_a
    _token, click = _tokens(crm_a, campaign, member)
    browser = HttpClient(HTTP_HOST=crm_a.host)
    # The target is inside the signature: changing any character breaks it.
    forged = click[:10] + ("A" if click[10] != "A" else "B") + click[11:]
    for bad in (forged, "https:evil.example", "x"):
        response = browser.get(f"/campaigns/r/{bad}/")
        assert response.status_code == 400
    assert _state(crm_a, member)[2] == 0


def test_gym_a_links_on_gym_b_host_do_nothing(crm_a: CrmGym, crm_b: CrmGym, campaign_a) -> None:
    campaign, member = campaign_a
    token, click = _tokens(crm_a, campaign, member)
    # Gym B has a campaign and a client with the same ids as far as the tokens could tell.
    with tenant_context(crm_b.gym):
        segment = services.segment_create(actor=crm_b.owner, name="All", definition={})
        services.campaign_create(
            actor=crm_b.owner, name="B", channel="email", segment=segment, subject="B", body="B"
        )
        make_client("Bea", "bea@example.com")
    before_a, before_b = _state(crm_a, member), _state(crm_b, crm_b.ann)
    with tenant_context(crm_b.gym):
        suppressed_b = Suppression.objects.count()
    browser = HttpClient(HTTP_HOST=crm_b.host)
    assert browser.get(f"/campaigns/u/{token}/").status_code == 400
    assert (
        browser.post(
            f"/campaigns/u/{token}/",
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        ).status_code
        == 400
    )
    assert browser.get(f"/campaigns/r/{click}/").status_code == 400
    assert _state(crm_a, member) == before_a
    assert _state(crm_b, crm_b.ann) == before_b
    with tenant_context(crm_b.gym):
        assert Suppression.objects.count() == suppressed_b
