"""Sending a campaign for real: SMTP to a server on loopback, the headers every marketing mail
carries, placeholders, and exactly once per recipient when a sender dies mid-campaign."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.campaigns import services
from apps.campaigns.models import Campaign, CampaignStatus, Segment
from apps.campaigns.selectors import campaign_figures
from apps.notifications.models import Delivery
from tests.campaigns.conftest import make_client
from tests.crm.conftest import CrmGym


class WorkerDiedError(Exception):
    """Stands for a worker process killed mid-send."""


def make_campaign(crm: CrmGym, *, body: str = "", subject: str = "") -> Campaign:
    segment = services.segment_create(actor=crm.owner, name="Everyone", definition={})
    campaign = services.campaign_create(
        actor=crm.owner,
        name="Spring",
        channel="email",
        segment=segment,
        subject=subject or "Spring at {{ gym_name }}, {{ first_name }}",
        body=body
        or "Hi {{ first_name }},\n\nNew classes: https://example.com/classes?x=1.\n\n"
        "Your trainer: {{ trainer_name }}",
    )
    return campaign


def start(crm: CrmGym, campaign: Campaign, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    # The send task would run on commit; tests drive the sender themselves.
    with django_capture_on_commit_callbacks(execute=False):
        services.campaign_send_now(actor=crm.owner, campaign=campaign)


def received_by(smtp) -> Counter:  # type: ignore[no-untyped-def]
    return Counter(address for mail in smtp.messages for address in mail.rcpt_tos)


def test_a_campaign_reaches_each_consenting_client_once_over_smtp(
    crm_a: CrmGym, smtp_server, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(crm_a.gym):
        for n in range(5):
            make_client(f"P{n}", f"p{n}@example.com")
        make_client("Refused", "refused@example.com", agreed=False)
        campaign = make_campaign(crm_a)
        start(crm_a, campaign, django_capture_on_commit_callbacks)
        result = services.campaign_deliver(campaign_id=campaign.pk, batch_size=2)
        assert (result.sent, result.remaining) == (5, 0)
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.SENT
        assert campaign.recipient_count == 5
        assert received_by(smtp_server) == {f"p{n}@example.com": 1 for n in range(5)}

        mail = next(m for m in smtp_server.messages if m.rcpt_tos == ["p0@example.com"])
        message = mail.message
        assert message["Subject"] == f"Spring at {crm_a.gym.name}, P0"
        unsubscribe = message["List-Unsubscribe"].strip()
        assert unsubscribe.startswith("<http")
        assert "/campaigns/u/" in unsubscribe
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        client_id = Delivery.objects.get(address="p0@example.com").recipient_client_id
        assert message["Message-ID"] == (
            f"<campaign-{campaign.pk}.client-{client_id}.{crm_a.gym.schema_name}@"
            f"{message['Message-ID'].rpartition('@')[2]}"
        )
        text = mail.body
        assert "Hi P0," in text
        # Links are tracked redirects; the unsubscribe link is in every mail.
        assert "https://example.com/classes" not in text
        assert "/campaigns/r/" in text
        assert unsubscribe.strip("<>") in text
        html = message.get_body(preferencelist=("html",)).get_content()
        assert crm_a.gym.name in html
        assert ">https://example.com/classes?x=1</a>" in html

        figures = campaign_figures(campaign)
        assert (figures.recipients, figures.sent, figures.failed) == (5, 5, 0)
        rows = Delivery.objects.filter(group_key=f"campaign:{campaign.pk}")
        assert {r.status for r in rows} == {"sent"}
        assert all(r.provider_id.startswith("<campaign-") and r.attempts == 1 for r in rows)


def test_the_trainers_name_fills_its_placeholder(
    crm_a: CrmGym, smtp_server, django_capture_on_commit_callbacks
) -> None:
    from apps.crm.models import Client

    with tenant_context(crm_a.gym):
        from tests.campaigns.conftest import consent

        consent(Client.objects.get(pk=crm_a.ann.pk))
        campaign = make_campaign(crm_a)
        start(crm_a, campaign, django_capture_on_commit_callbacks)
        services.campaign_deliver(campaign_id=campaign.pk)
        (mail,) = smtp_server.messages
        assert "Your trainer: Tina Trainer" in mail.body


def test_a_worker_killed_mid_campaign_then_restarted_sends_each_recipient_once(
    crm_a: CrmGym, smtp_server, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(crm_a.gym):
        for n in range(12):
            make_client(f"K{n}", f"k{n}@example.com")
        campaign = make_campaign(crm_a)
        start(crm_a, campaign, django_capture_on_commit_callbacks)

        def die_after_five(sent: int) -> None:
            if sent == 5:
                raise WorkerDiedError

        with pytest.raises(WorkerDiedError):
            services.campaign_deliver(
                campaign_id=campaign.pk, batch_size=4, after_send=die_after_five
            )
        assert len(smtp_server.messages) == 5
        # The restarted task (and a duplicate of it) finish the rest.
        services.campaign_deliver(campaign_id=campaign.pk, batch_size=4)
        services.campaign_deliver(campaign_id=campaign.pk, batch_size=4)
        assert received_by(smtp_server) == {f"k{n}@example.com": 1 for n in range(12)}
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.SENT


def test_a_worker_killed_between_smtp_and_its_mark_never_sends_that_mail_twice(
    crm_a: CrmGym, smtp_server, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    """The at-most-once window: the mail left, the worker died before it wrote "sent". The
    restarted sender finds the row "sending", marks it failed (interrupted) and goes on."""
    with tenant_context(crm_a.gym):
        for n in range(6):
            make_client(f"W{n}", f"w{n}@example.com")
        campaign = make_campaign(crm_a)
        start(crm_a, campaign, django_capture_on_commit_callbacks)
        real_mark = services._mark_sent
        calls = {"n": 0}

        def die_before_the_third_mark(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 3:
                raise WorkerDiedError
            real_mark(*args, **kwargs)

        monkeypatch.setattr(services, "_mark_sent", die_before_the_third_mark)
        with pytest.raises(WorkerDiedError):
            services.campaign_deliver(campaign_id=campaign.pk)
        monkeypatch.setattr(services, "_mark_sent", real_mark)
        assert len(smtp_server.messages) == 3
        # Outside the test's transaction the dying worker's "sending" row stays: as it does here.
        assert Delivery.objects.filter(status="sending", sent_at__isnull=False).count() == 1
        result = services.campaign_deliver(campaign_id=campaign.pk)
        assert result.interrupted == 1
        assert received_by(smtp_server) == {f"w{n}@example.com": 1 for n in range(6)}
        interrupted = Delivery.objects.get(group_key=campaign.group_key, status="failed")
        assert "not sent again" in interrupted.error
        assert campaign_figures(campaign).sent == 5


def test_one_sender_at_a_time(crm_a: CrmGym, django_capture_on_commit_callbacks) -> None:
    with tenant_context(crm_a.gym):
        make_client("L", "l@example.com")
        campaign = make_campaign(crm_a)
        start(crm_a, campaign, django_capture_on_commit_callbacks)
        with services.sender_lock(campaign.pk) as got:
            assert got
            # Another connection (another worker) would be refused; the same session may
            # re-enter, so test through a second connection.
            import psycopg
            from django.db import connection

            params = connection.get_connection_params()
            with psycopg.connect(**params) as other:
                from zlib import crc32

                key = crc32(f"campaigns:{connection.schema_name}:{campaign.pk}".encode())
                row = other.execute(
                    "SELECT pg_try_advisory_lock(%s, %s)", [0x43414D50, key - 2**31]
                ).fetchone()
                assert row == (False,)


def test_someone_who_unsubscribes_mid_campaign_gets_nothing_more(
    crm_a: CrmGym, smtp_server, django_capture_on_commit_callbacks
) -> None:
    from apps.campaigns.links import LinkTarget

    with tenant_context(crm_a.gym):
        clients = [make_client(f"U{n}", f"u{n}@example.com") for n in range(3)]
        campaign = make_campaign(crm_a)
        start(crm_a, campaign, django_capture_on_commit_callbacks)
        services.campaign_deliver(campaign_id=campaign.pk, max_messages=1)
        services.unsubscribe_record(target=LinkTarget(campaign.pk, clients[2].pk))
        services.campaign_deliver(campaign_id=campaign.pk)
        assert set(received_by(smtp_server)) == {"u0@example.com", "u1@example.com"}
        assert Delivery.objects.get(address="u2@example.com").status == "skipped"


def test_unknown_placeholders_are_refused_naming_the_field(crm_a: CrmGym) -> None:
    with tenant_context(crm_a.gym):
        segment = Segment.objects.create(name="All", definition={})
        with pytest.raises(ValidationError) as error:
            services.campaign_create(
                actor=crm_a.owner,
                name="Bad",
                channel="email",
                segment=segment,
                subject="Hi {{ nickname }}",
                body="{{ first_name }} {{ password }}",
            )
        assert "nickname" in " ".join(error.value.message_dict["subject"])
        assert "password" in " ".join(error.value.message_dict["body"])


def test_a_test_send_goes_to_the_editor_only(
    crm_a: CrmGym, smtp_server, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(crm_a.gym):
        make_client("T", "t@example.com")
        campaign = make_campaign(crm_a)
        assert services.campaign_test_send(actor=crm_a.owner, campaign=campaign) == (
            crm_a.owner.email
        )
        (mail,) = smtp_server.messages
        assert mail.rcpt_tos == [crm_a.owner.email]
        assert mail.message["Subject"].startswith("[Test]")
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.DRAFT
        assert campaign_figures(campaign).sent == 0


def test_a_scheduled_campaign_starts_when_due_in_the_gyms_time_zone(
    crm_a: CrmGym, django_capture_on_commit_callbacks
) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    with tenant_context(crm_a.gym):
        crm_a.gym.time_zone = "America/New_York"
        crm_a.gym.save(update_fields=["time_zone"])
        campaign = make_campaign(crm_a)
        local = (timezone.now() + timedelta(days=2)).astimezone(ZoneInfo("America/New_York"))
        wall = datetime(local.year, local.month, local.day, 9, 30)  # noqa: DTZ001 (wall clock)
        services.campaign_schedule(actor=crm_a.owner, campaign=campaign, send_at=wall)
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.SCHEDULED
        assert campaign.scheduled_at == wall.replace(tzinfo=ZoneInfo("America/New_York"))
        assert services.campaigns_start_due() == 0
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert services.campaigns_start_due(now=campaign.scheduled_at) == 1
        assert callbacks
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.SENDING
        with pytest.raises(ValidationError) as error:
            services.campaign_schedule(actor=crm_a.owner, campaign=campaign, send_at=wall)
        assert "status" in error.value.message_dict


def test_a_time_in_the_past_or_in_the_spring_gap_is_refused(crm_a: CrmGym) -> None:
    from datetime import datetime

    with tenant_context(crm_a.gym):
        crm_a.gym.time_zone = "Europe/Berlin"
        crm_a.gym.save(update_fields=["time_zone"])
        campaign = make_campaign(crm_a)
        walls = (datetime(2020, 1, 1, 9, 0), datetime(2099, 3, 29, 2, 30))  # noqa: DTZ001
        for wall in walls:
            with pytest.raises(ValidationError) as error:
                services.campaign_schedule(actor=crm_a.owner, campaign=campaign, send_at=wall)
            assert "scheduled_at" in error.value.message_dict


def test_trainers_cannot_run_campaigns(crm_a: CrmGym) -> None:
    from django.core.exceptions import PermissionDenied

    with tenant_context(crm_a.gym), pytest.raises(PermissionDenied):
        services.segment_create(actor=crm_a.tina.user, name="Mine", definition={})
