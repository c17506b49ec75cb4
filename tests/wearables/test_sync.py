"""Scheduled and requested syncs (apps.wearables.services.sync) against the Strava fake: what
the beat queues, dispatch to the provider, success and failure recorded with a backed-off next
attempt, a revoked connection left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.wearables.integrations.errors import ProviderError, RateLimitedError
from apps.wearables.models import Connection, ConnectionStatus, ExternalWorkout
from apps.wearables.services import sync
from apps.wearables.services.sync import (
    SyncRefusedError,
    connection_sync,
    connection_sync_request,
    connections_due,
    connections_sync_due,
)
from tests.wearables.conftest import make_client
from tests.wearables.test_strava import connect

pytestmark = pytest.mark.django_db


def _connection(gym, email, **fields):  # type: ignore[no-untyped-def]
    _user, client = make_client(gym, email)
    with tenant_context(gym):
        return Connection.objects.create(client=client, provider="strava", **fields)


def test_the_beat_queues_due_and_stale_connections_only(gym_a) -> None:
    now = timezone.now()
    due = _connection(gym_a, "due@alpha.example", next_attempt_at=now - timedelta(minutes=1))
    stale = _connection(gym_a, "stale@alpha.example", last_sync_at=now - timedelta(hours=25))
    never = _connection(gym_a, "never@alpha.example")
    fresh = _connection(gym_a, "fresh@alpha.example", last_sync_at=now - timedelta(hours=1))
    waiting = _connection(
        gym_a,
        "waiting@alpha.example",
        status=ConnectionStatus.ERROR,
        last_sync_at=now - timedelta(days=3),
        next_attempt_at=now + timedelta(hours=1),
    )
    gone = _connection(
        gym_a, "gone@alpha.example", status=ConnectionStatus.DISCONNECTED, last_sync_at=None
    )
    with tenant_context(gym_a):
        upload = Connection.objects.create(
            client=make_client(gym_a, "upload@alpha.example")[1], provider="apple_health"
        )
        ids = set(connections_due(now=now).values_list("pk", flat=True))
        assert {due.pk, stale.pk, never.pk} <= ids
        assert not {fresh.pk, waiting.pk, gone.pk, upload.pk} & ids


def test_a_beat_run_queues_each_due_connection_once_and_leases_it(
    gym_a, fake_strava, monkeypatch
) -> None:
    queued: list[tuple[int, int]] = []
    monkeypatch.setattr(sync, "_queue", lambda pk, countdown=0: queued.append((pk, countdown)))
    now = timezone.now()
    connections = [_connection(gym_a, f"beat{n}@alpha.example") for n in range(4)]
    with tenant_context(gym_a):
        assert connections_sync_due(now=now) == 4
        assert connections_sync_due(now=now + timedelta(minutes=10)) == 0  # still leased
        assert sorted(pk for pk, _c in queued) == sorted(c.pk for c in connections)
        # Spread over the window, never beyond the broker's visibility timeout.
        countdowns = sorted(c for _pk, c in queued)
        assert countdowns[0] == 0
        assert countdowns[-1] < sync.SPREAD_SECONDS
        assert len(set(countdowns)) == 4
        # A lost task: after the lease, the beat queues it again.
        assert connections_sync_due(now=now + sync.QUEUED_LEASE + timedelta(minutes=1)) == 4


def test_sync_pulls_strava_since_the_last_sync_and_records_success(
    gym_a, fake_strava, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "pull@alpha.example")
    athlete = fake_strava.add_athlete()
    connection = connect(gym_a, client, fake_strava, django_capture_on_commit_callbacks)
    fake_strava.add_activity(athlete, name="Lunch Ride", days_ago=0.1)
    # Recorded before the last sync (and missed): a pull since the last sync does not ask
    # for it again, a 30-day backfill would.
    fake_strava.add_activity(athlete, name="Old Ride", days_ago=6)
    with tenant_context(gym_a):
        Connection.objects.filter(pk=connection.pk).update(
            last_sync_at=timezone.now() - timedelta(days=2), last_error="old", status="error"
        )
        assert connection_sync(connection_id=connection.pk) == 1
        connection.refresh_from_db()
        assert connection.status == ConnectionStatus.ACTIVE
        assert connection.last_error == ""
        assert connection.next_attempt_at is None
        assert ExternalWorkout.objects.filter(client=client, name="Lunch Ride").count() == 1
        assert not ExternalWorkout.objects.filter(client=client, name="Old Ride").exists()


def test_a_failing_sync_records_the_error_and_backs_off(
    gym_a, fake_strava, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "fail@alpha.example")
    fake_strava.add_athlete()
    connection = connect(gym_a, client, fake_strava, django_capture_on_commit_callbacks)
    with tenant_context(gym_a):
        Connection.objects.filter(pk=connection.pk).update(
            last_sync_at=timezone.now() - timedelta(hours=8)
        )
        # Nothing listens on the discard port: a network error.
        with override_settings(STRAVA_BASE_URL="http://127.0.0.1:9"), pytest.raises(ProviderError):
            connection_sync(connection_id=connection.pk)
        connection.refresh_from_db()
        assert connection.status == ConnectionStatus.ERROR
        assert connection.last_error
        wait = connection.next_attempt_at - timezone.now()
        assert timedelta(minutes=100) < wait < timedelta(hours=3)  # a quarter of 8 hours
        assert connection.pk not in set(connections_due().values_list("pk", flat=True))


def test_a_rate_limited_sync_waits_as_the_provider_says(
    gym_a, fake_strava, django_capture_on_commit_callbacks
) -> None:
    _user, client = make_client(gym_a, "limited@alpha.example")
    fake_strava.add_athlete()
    connection = connect(gym_a, client, fake_strava, django_capture_on_commit_callbacks)
    fake_strava.limit_15min = 0
    with tenant_context(gym_a), pytest.raises(RateLimitedError) as limited:
        connection_sync(connection_id=connection.pk)
    with tenant_context(gym_a):
        connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ERROR
    wait = (connection.next_attempt_at - timezone.now()).total_seconds()
    assert limited.value.retry_after - 5 < wait < limited.value.retry_after + 65


def test_sync_now_is_refused_for_uploads_disconnected_and_twice_within_minutes(
    gym_a, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    queued: list[int] = []
    monkeypatch.setattr(sync, "_queue", lambda pk, countdown=0: queued.append(pk))
    live = _connection(gym_a, "live@alpha.example")
    gone = _connection(gym_a, "gone2@alpha.example", status=ConnectionStatus.DISCONNECTED)
    with tenant_context(gym_a):
        upload = Connection.objects.create(
            client=make_client(gym_a, "upload2@alpha.example")[1], provider="myfitnesspal"
        )
        with django_capture_on_commit_callbacks(execute=True):
            connection_sync_request(connection=live)
        with pytest.raises(SyncRefusedError) as again:
            connection_sync_request(connection=live)
        assert again.value.too_soon
        for connection in (gone, upload):
            with pytest.raises(SyncRefusedError) as refused:
                connection_sync_request(connection=connection)
            assert not refused.value.too_soon
    assert queued == [live.pk]


def test_the_sync_task_runs_in_the_gym_it_was_sent_from(
    gym_a, gym_b, fake_strava, django_capture_on_commit_callbacks
) -> None:
    from apps.wearables.tasks import sync_due_task

    _user, client = make_client(gym_a, "task@alpha.example")
    athlete = fake_strava.add_athlete()
    connection = connect(gym_a, client, fake_strava, django_capture_on_commit_callbacks)
    fake_strava.add_activity(athlete, name="Beat Run", days_ago=0.2)
    with tenant_context(gym_a):
        Connection.objects.filter(pk=connection.pk).update(
            last_sync_at=timezone.now() - timedelta(days=2)
        )
        assert sync_due_task.delay().get() == 1  # eager in tests: the sync runs at once
        assert ExternalWorkout.objects.filter(client=client, name="Beat Run").exists()
    with tenant_context(gym_b):
        assert not ExternalWorkout.objects.filter(name="Beat Run").exists()


def test_only_providers_with_something_to_pull_can_sync() -> None:
    assert sync.can_sync("strava")
    assert sync.can_sync("garmin")  # providers.garmin.services.sync
    assert sync.can_sync("google_health")
    assert not sync.can_sync("apple_health")  # uploads
    assert not sync.can_sync("myfitnesspal")
