"""Wearable triggers: a resting heart rate up for several days, and a week without activity
while a wearable is connected. Both are scanned like the other time triggers: one run per
episode however often the scan runs, a new run only for a new episode."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.automations import services
from apps.automations.models import Rule, Run, Trigger
from apps.crm.models import Client
from apps.tenants.selectors import gym_today, gym_zone
from apps.wearables.models import (
    Connection,
    ConnectionStatus,
    DailyActivity,
    ExternalWorkout,
    HeartRateDay,
)
from tests.automations.conftest import make_rule, tag_step
from tests.crm.conftest import CrmGym

pytestmark = pytest.mark.django_db


def _connect(client: Client, provider: str, kinds: str, *, days_ago: int = 60, **extra) -> None:  # type: ignore[no-untyped-def]
    connection = Connection.objects.create(client=client, provider=provider, kinds=kinds, **extra)
    Connection.objects.filter(pk=connection.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )


def _resting(client: Client, provider: str, day: date, bpm: int) -> None:
    HeartRateDay.objects.update_or_create(
        client=client,
        provider=provider,
        provider_id=f"hr-{day}",
        defaults={"date": day, "resting_bpm": bpm},
    )


def _steps(client: Client, provider: str, day: date, steps: int) -> None:
    DailyActivity.objects.update_or_create(
        client=client,
        provider=provider,
        provider_id=f"day-{day}",
        defaults={"date": day, "steps": steps},
    )


def _switched_on_long_ago(rule: Rule) -> None:
    Rule.objects.filter(pk=rule.pk).update(enabled_at=timezone.now() - timedelta(days=90))


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=gym_zone())


class TestRestingHeartRateUp:
    def test_three_days_above_the_usual_is_one_run_per_episode(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            today = gym_today()
            _connect(crm_a.bob, "garmin", "heart_rate,sleep")
            for days_ago in range(60, -1, -1):
                day = today - timedelta(days=days_ago)
                # Usual 55; up to 65 for an episode 20 to 18 days ago and again since 2 days.
                up = days_ago in (20, 19, 18) or days_ago <= 2
                _resting(crm_a.bob, "garmin", day, 65 if up else 55)
            rule = make_rule(
                crm_a, Trigger.RESTING_HEART_RATE_UP, [tag_step("heart-up")], threshold=8
            )
            _switched_on_long_ago(rule)

            # 18 days ago: the first episode (its 3-day mean first reaches 63 that day).
            assert services.time_triggers_scan(now=_noon(today - timedelta(days=18))) == 1
            assert services.time_triggers_scan(now=_noon(today - timedelta(days=17))) == 0
            # Today: a second episode, once however often the scan runs.
            assert services.time_triggers_scan() == 1
            assert services.time_triggers_scan() == 0
            keys = sorted(Run.objects.filter(rule=rule).values_list("occurrence_key", flat=True))
            assert keys == [
                f"resting_heart_rate_up:8:{crm_a.bob.pk}:{today - timedelta(days=18)}",
                f"resting_heart_rate_up:8:{crm_a.bob.pk}:{today}",
            ]
            assert services.due_steps_run() == 2
            crm_a.bob.refresh_from_db()
            assert "heart-up" in crm_a.bob.tags

    def test_a_rise_below_the_threshold_or_without_a_baseline_is_nothing(
        self, crm_a: CrmGym
    ) -> None:
        with tenant_context(crm_a.gym):
            today = gym_today()
            _connect(crm_a.bob, "garmin", "heart_rate")
            _connect(crm_a.ann, "garmin", "heart_rate")
            for days_ago in range(40, -1, -1):
                day = today - timedelta(days=days_ago)
                # Bob: up 5 only. Ann: a new watch, 10 nights only.
                _resting(crm_a.bob, "garmin", day, 60 if days_ago <= 2 else 55)
                if days_ago < 10:
                    _resting(crm_a.ann, "garmin", day, 70 if days_ago <= 2 else 55)
            rule = make_rule(
                crm_a, Trigger.RESTING_HEART_RATE_UP, [tag_step("heart-up")], threshold=8
            )
            _switched_on_long_ago(rule)
            assert services.time_triggers_scan() == 0

    def test_the_winning_source_decides_and_a_failing_sync_counts_for_nothing(
        self, crm_a: CrmGym
    ) -> None:
        with tenant_context(crm_a.gym):
            today = gym_today()
            # Ann wears a Garmin (steady) and her phone's app guesses high: Garmin wins.
            _connect(crm_a.ann, "garmin", "heart_rate")
            _connect(crm_a.ann, "apple_health", "heart_rate")
            # Bob's only connection is failing: whatever it left behind is not read.
            _connect(crm_a.bob, "garmin", "heart_rate", status=ConnectionStatus.ERROR)
            for days_ago in range(40, -1, -1):
                day = today - timedelta(days=days_ago)
                _resting(crm_a.ann, "garmin", day, 55)
                _resting(crm_a.ann, "apple_health", day, 75 if days_ago <= 2 else 55)
                _resting(crm_a.bob, "garmin", day, 75 if days_ago <= 2 else 55)
            rule = make_rule(
                crm_a, Trigger.RESTING_HEART_RATE_UP, [tag_step("heart-up")], threshold=8
            )
            _switched_on_long_ago(rule)
            assert services.time_triggers_scan() == 0
            # Ann says her phone is right: now it wins, and she is up.
            Connection.objects.filter(client=crm_a.ann, provider="apple_health").update(
                precedence=1
            )
            assert services.time_triggers_scan() == 1
            assert Run.objects.get(rule=rule).client == crm_a.ann

    def test_a_rule_switched_on_today_leaves_an_episode_that_began_before_alone(
        self, crm_a: CrmGym
    ) -> None:
        with tenant_context(crm_a.gym):
            today = gym_today()
            _connect(crm_a.bob, "garmin", "heart_rate")
            for days_ago in range(50, -1, -1):
                _resting(
                    crm_a.bob,
                    "garmin",
                    today - timedelta(days=days_ago),
                    70 if days_ago <= 6 else 55,
                )
            make_rule(crm_a, Trigger.RESTING_HEART_RATE_UP, [tag_step()], threshold=8)
            assert services.time_triggers_scan() == 0

    def test_the_threshold_is_required_and_bounded(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            for threshold in (None, 2, 41):
                with pytest.raises(ValidationError) as error:
                    make_rule(
                        crm_a, Trigger.RESTING_HEART_RATE_UP, [tag_step()], threshold=threshold
                    )
                assert "threshold" in error.value.message_dict
            rule = make_rule(crm_a, Trigger.RESTING_HEART_RATE_UP, [tag_step()], threshold=8)
            assert "8 bpm" in rule.trigger_text


class TestNoActivity:
    def test_a_quiet_week_with_a_wearable_is_one_run_per_quiet_spell(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            today = gym_today()
            _connect(crm_a.bob, "strava", "activity,workouts", days_ago=40)
            for days_ago in range(30, -1, -1):
                # Active until 8 days ago, then a few hundred steps a day.
                steps = 6000 if days_ago >= 8 else 300
                _steps(crm_a.bob, "strava", today - timedelta(days=days_ago), steps)
            rule = make_rule(crm_a, Trigger.NO_ACTIVITY, [tag_step("quiet")])
            _switched_on_long_ago(rule)
            # Yesterday the week was not over yet.
            assert services.time_triggers_scan(now=_noon(today - timedelta(days=1))) == 0
            assert services.time_triggers_scan() == 1
            assert services.time_triggers_scan() == 0
            run = Run.objects.get(rule=rule)
            assert run.occurrence_key == f"no_activity:{crm_a.bob.pk}:{today - timedelta(days=8)}"
            # Still quiet tomorrow: the same spell, nothing new.
            assert services.time_triggers_scan(now=_noon(today + timedelta(days=1))) == 0

    def test_a_workout_or_a_short_connection_or_no_wearable_is_nothing(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            today = gym_today()
            # Ann: no steps at all, but a run on Strava three days ago.
            _connect(crm_a.ann, "strava", "activity,workouts")
            ExternalWorkout.objects.create(
                client=crm_a.ann,
                provider="strava",
                provider_id="run-1",
                sport="Run",
                start_at=_noon(today - timedelta(days=3)),
                date=today - timedelta(days=3),
                duration_seconds=1800,
            )
            # Bob: connected five days ago, nothing yet (not a week).
            _connect(crm_a.bob, "garmin", "activity", days_ago=5)
            # Cara: shares only her food diary: no steps to miss. (No wearable at all is
            # everyone else.)
            _connect(crm_a.cara, "myfitnesspal", "nutrition", days_ago=30)
            rule = make_rule(crm_a, Trigger.NO_ACTIVITY, [tag_step("quiet")])
            _switched_on_long_ago(rule)
            assert services.time_triggers_scan() == 0
            # Bob's week without anything since connecting is a spell of its own.
            assert services.time_triggers_scan(now=_noon(today + timedelta(days=2))) == 1
            assert Run.objects.get(rule=rule).client == crm_a.bob

    def test_conditions_narrow_who_and_queries_do_not_grow_with_clients(
        self, crm_a: CrmGym, django_assert_max_num_queries
    ) -> None:
        with tenant_context(crm_a.gym):
            today = gym_today()
            quiet = [
                Client.objects.create(first_name=f"Quiet {n}", email=f"quiet{n}@a.example")
                for n in range(12)
            ]
            for client in quiet:
                _connect(client, "garmin", "activity", days_ago=30)
                _steps(client, "garmin", today - timedelta(days=8), 8000)
            Client.objects.filter(pk__in=[c.pk for c in quiet[:4]]).update(tags=["vip"])
            rule = make_rule(
                crm_a, Trigger.NO_ACTIVITY, [tag_step("quiet")], conditions={"tags": ["vip"]}
            )
            _switched_on_long_ago(rule)
            with django_assert_max_num_queries(12):
                assert services.time_triggers_scan() == 4
