"""Precedence: one source per day and kind, so totals never count twice; the Activity page's
queries do not grow with its rows; a client sees only their own."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.wearables.models import Connection, DailyActivity, ExternalWorkout
from apps.wearables.selectors import daily_rows
from tests.wearables.conftest import make_client

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 2)


def _day(client, provider, steps, day=DAY):  # type: ignore[no-untyped-def]
    return DailyActivity.objects.create(
        client=client, provider=provider, provider_id=day.isoformat(), date=day, steps=steps
    )


def test_one_source_wins_each_day_by_default_rank_then_by_the_clients_own(gym_a) -> None:
    _u, client = make_client(gym_a, "twosources@alpha.example")
    with tenant_context(gym_a):
        _day(client, "strava", 4000)
        _day(client, "garmin", 9000)
        _day(client, "strava", 3000, DAY + timedelta(days=1))
        rows = list(
            daily_rows(client_id=client.pk, kind="activity", start=DAY, end=DAY + timedelta(days=1))
        )
        assert [(r.date, r.provider, r.steps) for r in rows] == [
            (DAY, "garmin", 9000),
            (DAY + timedelta(days=1), "strava", 3000),
        ]
        assert sum(r.steps for r in rows) == 12000  # never 16000

        # The client prefers Strava: an explicit precedence beats the defaults.
        Connection.objects.create(client=client, provider="strava", precedence=1)
        rows = list(daily_rows(client_id=client.pk, kind="activity", start=DAY, end=DAY))
        assert [(r.provider, r.steps) for r in rows] == [("strava", 4000)]


def test_a_re_delivered_item_cannot_make_a_second_row(gym_a) -> None:
    from django.db import IntegrityError, transaction

    _u, client = make_client(gym_a, "unique@alpha.example")
    with tenant_context(gym_a):
        _day(client, "garmin", 100)
        with pytest.raises(IntegrityError), transaction.atomic():
            _day(client, "garmin", 200)


def test_the_activity_page_runs_a_bounded_number_of_queries_and_shows_only_the_clients_own(
    gym_a, client_a, django_assert_max_num_queries
) -> None:
    user, client = make_client(gym_a, "pager@alpha.example")
    _other_user, other = make_client(gym_a, "other@alpha.example")
    now = timezone.now()
    with tenant_context(gym_a):
        for i in range(40):
            for owner, name in ((client, "Mine"), (other, "Theirs")):
                ExternalWorkout.objects.create(
                    client=owner,
                    provider="strava",
                    provider_id=f"{owner.pk}-{i}",
                    sport="Run",
                    name=f"{name} {i}",
                    start_at=now - timedelta(hours=i),
                    date=(now - timedelta(hours=i)).date(),
                    duration_seconds=1800,
                )
            if i < 30:
                _day(client, "garmin", 1000 + i, timezone.localdate() - timedelta(days=i))
    client_a.force_login(user)
    with django_assert_max_num_queries(25):
        response = client_a.get("/portal/activity/")
    assert response.status_code == 200
    assert b"Mine 0" in response.content
    assert b"Theirs" not in response.content


def test_staff_cannot_open_the_clients_activity_page(gym_a, owner_a, client_a) -> None:
    client_a.force_login(owner_a)
    assert client_a.get("/portal/activity/").status_code == 403
    assert client_a.get("/portal/activity/strava/connect/").status_code == 403


def test_a_scales_reading_goes_into_progress_once_and_is_checked(gym_a) -> None:
    from decimal import Decimal

    from apps.progress.models import BodyMeasurement
    from apps.wearables.services import InvalidRecordError, body_measurement_from_provider

    _u, client = make_client(gym_a, "scale@alpha.example")
    at = timezone.now() - timedelta(hours=3)
    with tenant_context(gym_a):
        for weight in (Decimal("81.2"), Decimal("81.4")):
            body_measurement_from_provider(
                client_id=client.pk, provider="garmin", measured_at=at, weight_kg=weight
            )
        rows = BodyMeasurement.objects.filter(client=client)
        assert [(r.weight_kg, r.body_fat_percent) for r in rows] == [(Decimal("81.400"), None)]
        with pytest.raises(InvalidRecordError):
            body_measurement_from_provider(
                client_id=client.pk, provider="garmin", measured_at=at, weight_kg=Decimal("900")
            )
        with pytest.raises(InvalidRecordError):
            body_measurement_from_provider(
                client_id=client.pk,
                provider="garmin",
                measured_at=timezone.now() + timedelta(days=2),
                weight_kg=Decimal("80"),
            )
