"""Audiences: every rule of a segment definition, the marketing consent and suppression filter,
one SQL query for the whole audience, and bad rules named."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.campaigns.selectors import segment_clients
from apps.crm.models import ConsentKind
from apps.notifications.models import Suppression
from tests.campaigns.conftest import consent, make_client
from tests.crm.conftest import CrmGym


def names(definition, **kwargs) -> set[str]:  # type: ignore[no-untyped-def]
    return set(segment_clients(definition, **kwargs).values_list("first_name", flat=True))


def test_only_clients_whose_latest_word_is_yes_and_not_suppressed(crm_a: CrmGym) -> None:
    with tenant_context(crm_a.gym):
        now = timezone.now()
        make_client("Yes", "yes@example.com")
        make_client("Never", "never@example.com", agreed=False)
        withdrawn = make_client("Withdrawn", "withdrawn@example.com", agreed=False)
        consent(withdrawn, True, at=now - timedelta(days=10))
        consent(withdrawn, False, at=now - timedelta(days=1))
        again = make_client("Again", "again@example.com", agreed=False)
        consent(again, False, at=now - timedelta(days=10))
        consent(again, True, at=now - timedelta(days=1))
        sms_only = make_client("SmsOnly", "sms@example.com", agreed=False)
        consent(sms_only, kind=ConsentKind.SMS)
        make_client("NoEmail", "", phone="+447700900555")
        suppressed = make_client("Bounced", "Bounced@Example.com")
        Suppression.objects.create(channel="email", address="bounced@example.com", reason="bounce")
        assert suppressed.pk

        assert names({}) == {"Yes", "Again"}
        # Without the marketing filter (automations' conditions) everyone matches.
        assert {"Never", "Withdrawn", "Bounced", "NoEmail"} <= names({}, marketing_only=False)


def test_sms_audiences_need_sms_consent_and_a_phone(crm_a: CrmGym) -> None:
    with tenant_context(crm_a.gym):
        texted = make_client("Texted", "t@example.com", agreed=False, phone="+447700900111")
        consent(texted, kind=ConsentKind.SMS)
        no_phone = make_client("NoPhone", "np@example.com", agreed=False)
        consent(no_phone, kind=ConsentKind.SMS)
        stopped = make_client("Stopped", "s@example.com", agreed=False, phone="+447700900222")
        consent(stopped, kind=ConsentKind.SMS)
        Suppression.objects.create(channel="sms", address="+447700900222", reason="stop")
        assert names({}, channel="sms") == {"Texted"}


def test_each_rule(crm_a: CrmGym) -> None:
    from apps.billing.models import Membership, MembershipPlan
    from apps.scheduling.models import Appointment, AppointmentStatus
    from apps.training.models import PlanDay, PlanPhase, PlanWeek, ScheduledWorkout, WorkoutPlan

    with tenant_context(crm_a.gym):
        from apps.crm.models import Client

        Client.objects.filter(pk__in=[crm_a.ann.pk, crm_a.bob.pk, crm_a.cara.pk]).update(
            status="active"
        )
        for client in (crm_a.ann, crm_a.bob, crm_a.cara):
            consent(client)
        Client.objects.filter(pk=crm_a.bob.pk).update(
            status="trial", joined_on=date(2024, 3, 1), date_of_birth=date(1990, 7, 14)
        )
        # Tags (any of): Ann has vip and morning.
        assert names({"tags": ["VIP", "evening"]}) == {"Ann"}
        assert names({"status": ["trial"]}) == {"Bob"}
        assert names({"trainer": crm_a.tom.pk}) == {"Cara"}
        assert names({"birthday_month": 7}) == {"Bob"}
        assert names({"joined_before": "2024-12-31"}) == {"Bob"}
        assert "Bob" not in names({"joined_after": "2025-01-01"})

        plan = MembershipPlan.objects.create(name="Monthly", price=5000, currency="EUR")
        today = timezone.localdate()
        Membership.objects.create(
            client=crm_a.ann,
            plan=plan,
            status="past_due",
            started_on=today,
            current_period_start=today,
            current_period_end=today + timedelta(days=30),
        )
        assert names({"plans": [plan.pk]}) == {"Ann"}
        assert names({"membership_status": ["past_due"]}) == {"Ann"}
        assert names({"membership_status": ["active"]}) == set()

        now = timezone.now()
        Appointment.objects.create(
            trainer=crm_a.tina,
            client=crm_a.ann,
            starts_at=now - timedelta(days=3),
            ends_at=now - timedelta(days=3, minutes=-60),
            status=AppointmentStatus.COMPLETED,
            checked_in_at=now - timedelta(days=3),
        )
        assert names({"visited_within_days": 7}) == {"Ann"}
        assert names({"not_visited_days": 7}) == {"Bob", "Cara"}
        assert names({"not_visited_days": 2}) == {"Ann", "Bob", "Cara"}

        plan_w = WorkoutPlan.objects.create(
            name="Base", client=crm_a.cara, is_template=False, start_date=today
        )
        phase = PlanPhase.objects.create(plan=plan_w, order=1, name="Base")
        week = PlanWeek.objects.create(plan=plan_w, phase=phase, number=1)
        for offset, status in enumerate(["completed", "scheduled", "scheduled", "completed"]):
            day = PlanDay.objects.create(week=week, offset=offset)
            ScheduledWorkout.objects.create(
                client=crm_a.cara,
                plan=plan_w,
                day=day,
                date=today - timedelta(days=offset + 1),
                status=status,
            )
        # Cara: 2 of 4 = 50%. Nothing scheduled (Ann, Bob): no adherence, neither side.
        assert names({"adherence_below": 60}) == {"Cara"}
        assert names({"adherence_below": 50}) == set()
        assert names({"adherence_at_least": 50}) == {"Cara"}
        assert names({"status": ["active"], "tags": ["vip"]}) == {"Ann"}


def test_the_audience_is_one_query(crm_a: CrmGym) -> None:
    definition = {
        "status": ["active"],
        "tags": ["vip"],
        "trainer": crm_a.tina.pk,
        "membership_status": ["active"],
        "plans": [1],
        "visited_within_days": 30,
        "joined_after": "2020-01-01",
        "adherence_below": 80,
        "birthday_month": 5,
    }
    with tenant_context(crm_a.gym):
        segment_clients({}).count()  # the gym's time zone, read once per connection
        with CaptureQueriesContext(connection) as queries:
            list(segment_clients(definition))
        assert len(queries) <= 2, [q["sql"] for q in queries]
        assert any("crm_client" in q["sql"] for q in queries)


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ({"status": ["gone"]}, "status"),
        ({"tags": 5}, "tags"),
        ({"trainer": "tina"}, "trainer"),
        ({"plans": ["x"]}, "plans"),
        ({"birthday_month": 13}, "birthday_month"),
        ({"adherence_below": 101}, "adherence_below"),
        ({"joined_after": "yesterday"}, "joined_after"),
        ({"joined_after": "2025-02-01", "joined_before": "2025-01-01"}, "joined_before"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_rule_is_named(crm_a: CrmGym, definition, field) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(crm_a.gym), pytest.raises(ValidationError) as error:
        segment_clients(definition)
    assert field in error.value.message_dict
