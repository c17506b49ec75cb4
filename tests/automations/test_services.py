"""Automations: each trigger occurrence runs once per rule, conditions narrow who, pausing
stops new and waiting runs, delays are honoured, each action has its effect, texts with an
unknown placeholder are refused, and a rule of gym A never touches gym B."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.automations import services
from apps.automations.models import Rule, Run, RunStatus, StaffTask, Trigger
from apps.crm import services as crm_services
from apps.crm.models import Client, ClientStatus
from apps.scheduling.appointments import services as appointment_services
from apps.scheduling.classes import services as class_services
from apps.scheduling.models import ClassBooking
from apps.tenants.selectors import gym_today
from tests.automations.conftest import make_rule, tag_step
from tests.crm.conftest import CrmGym
from tests.scheduling.test_policies import make_appointment, make_class

pytestmark = pytest.mark.django_db


def new_client(crm: CrmGym, capture, **fields) -> Client:  # type: ignore[no-untyped-def]
    fields.setdefault("first_name", "Nia")
    fields.setdefault("email", "nia@example.com")
    with capture(execute=True):
        return crm_services.client_create(actor=crm.owner, **fields)


class TestEventTriggers:
    def test_client_created_runs_each_step_once(
        self, crm_a: CrmGym, django_capture_on_commit_callbacks
    ) -> None:
        with tenant_context(crm_a.gym):
            rule = make_rule(
                crm_a,
                Trigger.CLIENT_CREATED,
                [
                    tag_step("welcomed"),
                    {"action": "set_status", "status": "trial", "delay_minutes": 0},
                    {
                        "action": "create_task",
                        "title": "Call {{ first_name }} at {{ gym_name }}",
                        "assignee": str(crm_a.manager.pk),
                        "due_days": 2,
                        "delay_minutes": 0,
                    },
                ],
            )
            nia = new_client(crm_a, django_capture_on_commit_callbacks)
            run = Run.objects.get(rule=rule)
            assert run.status == RunStatus.DONE
            assert [entry["ok"] for entry in run.log] == [True, True, True]
            nia.refresh_from_db()
            assert nia.tags == ["welcomed"]
            assert nia.status == ClientStatus.TRIAL
            task = StaffTask.objects.get(client=nia)
            assert task.title == "Call Nia at Alpha Fitness"
            assert task.assignee == crm_a.manager
            assert task.due_on == gym_today() + timedelta(days=2)
            # The same occurrence again (a repeated event): no second run, no second task.
            assert (
                services.occurrences_record(
                    "client_created", client_id=nia.pk, key=f"client:{nia.pk}"
                )
                == 0
            )
            assert services.due_steps_run() == 0
            assert StaffTask.objects.filter(client=nia).count() == 1

    def test_lead_created_makes_a_task_for_the_lead(
        self, crm_a: CrmGym, django_capture_on_commit_callbacks
    ) -> None:
        with tenant_context(crm_a.gym):
            make_rule(
                crm_a,
                Trigger.LEAD_CREATED,
                [{"action": "create_task", "title": "Call {{ full_name }}", "due_days": 1}],
            )
            with django_capture_on_commit_callbacks(execute=True):
                lead = crm_services.lead_capture(
                    first_name="Lou", last_name="Reed", phone="+447700900555"
                )
            task = StaffTask.objects.get(lead=lead)
            assert task.title == "Call Lou Reed"
            assert task.assignee is None

    def test_conditions_narrow_who(self, crm_a: CrmGym, django_capture_on_commit_callbacks) -> None:
        with tenant_context(crm_a.gym):
            rule = make_rule(
                crm_a, Trigger.CLIENT_CREATED, [tag_step()], conditions={"tags": ["vip"]}
            )
            new_client(crm_a, django_capture_on_commit_callbacks, tags=["casual"])
            assert not Run.objects.filter(rule=rule).exists()
            vip = new_client(
                crm_a, django_capture_on_commit_callbacks, email="v@example.com", tags=["vip"]
            )
            assert Run.objects.get(rule=rule).client == vip

    def test_first_visit_and_the_nth_class(
        self, crm_a: CrmGym, django_capture_on_commit_callbacks
    ) -> None:
        with tenant_context(crm_a.gym):
            first = make_rule(crm_a, Trigger.FIRST_VISIT, [tag_step("first-visit")])
            third = make_rule(crm_a, Trigger.CLASS_ATTENDED, [tag_step("third-class")], threshold=3)
            bob = crm_a.bob
            for index in range(4):
                booking = ClassBooking.objects.create(
                    occurrence=make_class(crm_a, in_hours=0.5, name=f"Yoga {index}"), client=bob
                )
                with django_capture_on_commit_callbacks(execute=True):
                    class_services.class_check_in(actor=crm_a.desk, booking=booking)
            appointment = make_appointment(crm_a, bob, in_hours=0.25)
            with django_capture_on_commit_callbacks(execute=True):
                appointment_services.appointment_check_in(actor=crm_a.desk, appointment=appointment)
            assert Run.objects.filter(rule=first).count() == 1
            assert Run.objects.get(rule=third).occurrence_key == f"class_attended:3:{bob.pk}"
            bob.refresh_from_db()
            assert {"first-visit", "third-class"} <= set(bob.tags)

    def test_payment_failed_and_membership_cancelled(
        self, crm_a: CrmGym, django_capture_on_commit_callbacks
    ) -> None:
        from apps.billing import services as billing_services
        from tests.billing.factories import make_plan

        with tenant_context(crm_a.gym):
            failed = make_rule(crm_a, Trigger.PAYMENT_FAILED, [tag_step("payment-failed")])
            cancelled = make_rule(crm_a, Trigger.MEMBERSHIP_CANCELLED, [tag_step("leaving")])
            plan = make_plan(crm_a.owner)
            with django_capture_on_commit_callbacks(execute=True):
                membership = billing_services.membership_sell(
                    actor=crm_a.owner, client=crm_a.bob, plan=plan, payment_kind="offline_cash"
                )
            with django_capture_on_commit_callbacks(execute=True):
                billing_services.membership_mark_past_due(membership=membership)
            with django_capture_on_commit_callbacks(execute=True):
                # A second failure of the same lapse is the same occurrence.
                billing_services.membership_mark_past_due(membership=membership)
            with django_capture_on_commit_callbacks(execute=True):
                billing_services.membership_cancel(
                    actor=crm_a.owner, membership=membership, override_minimum_term=True
                )
            assert Run.objects.filter(rule=failed).count() == 1
            assert Run.objects.filter(rule=cancelled).count() == 1
            crm_a.bob.refresh_from_db()
            assert {"payment-failed", "leaving"} <= set(crm_a.bob.tags)


class TestTimeTriggers:
    def test_birthday_scan_twice_is_one_run(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            rule = make_rule(crm_a, Trigger.BIRTHDAY, [tag_step("birthday")])
            today = gym_today()
            # 1992 had a 29 February: any day of the year is someone's birthday.
            Client.objects.filter(pk=crm_a.bob.pk).update(
                date_of_birth=date(1992, today.month, today.day)
            )
            assert services.time_triggers_scan() == 1
            assert services.time_triggers_scan() == 0
            assert Run.objects.filter(rule=rule).count() == 1
            assert services.due_steps_run() == 1
            crm_a.bob.refresh_from_db()
            assert "birthday" in crm_a.bob.tags

    def test_no_visit_for_n_days(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            appointment = make_appointment(crm_a, crm_a.bob, in_hours=-24 * 10)
            appointment.checked_in_at = appointment.starts_at
            appointment.save(update_fields=["checked_in_at"])
            recent = make_appointment(crm_a, crm_a.ann, in_hours=-24 * 2)
            recent.checked_in_at = recent.starts_at
            recent.save(update_fields=["checked_in_at"])
            rule = make_rule(crm_a, Trigger.NO_VISIT, [tag_step("missed")], threshold=10)
            # Switched on before the moment came (ten days after the last visit is today).
            Rule.objects.filter(pk=rule.pk).update(enabled_at=timezone.now() - timedelta(days=30))
            assert services.time_triggers_scan() == 1
            assert services.time_triggers_scan() == 0
            assert Run.objects.get(rule=rule).client == crm_a.bob

    def test_a_rule_switched_on_today_leaves_old_absences_alone(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            appointment = make_appointment(crm_a, crm_a.bob, in_hours=-24 * 40)
            appointment.checked_in_at = appointment.starts_at
            appointment.save(update_fields=["checked_in_at"])
            make_rule(crm_a, Trigger.NO_VISIT, [tag_step("missed")], threshold=10)
            assert services.time_triggers_scan() == 0

    def test_trial_ending(self, crm_a: CrmGym) -> None:
        from apps.billing.models import Membership, MembershipStatus
        from tests.billing.factories import make_plan

        with tenant_context(crm_a.gym):
            plan = make_plan(crm_a.owner)
            today = gym_today()
            Membership.objects.create(
                client=crm_a.bob,
                plan=plan,
                status=MembershipStatus.TRIALING,
                started_on=today - timedelta(days=10),
                current_period_start=today - timedelta(days=10),
                current_period_end=today + timedelta(days=3),
            )
            rule = make_rule(crm_a, Trigger.TRIAL_ENDING, [tag_step("trial-ending")], threshold=3)
            assert services.time_triggers_scan() == 1
            assert services.time_triggers_scan() == 0
            assert Run.objects.get(rule=rule).client == crm_a.bob

    def test_adherence_dropping_once_a_month_while_it_lasts(self, crm_a: CrmGym) -> None:
        from tests.workouts.conftest import schedule

        with tenant_context(crm_a.gym):
            today = gym_today()
            # 60 days ago to 31 days ago: every workout done; the last 30 days: none.
            for days_ago in range(31, 61, 3):
                schedule(crm_a.bob, today - timedelta(days=days_ago), status="completed")
            for days_ago in range(1, 30, 3):
                schedule(crm_a.bob, today - timedelta(days=days_ago), status="skipped")
            schedule(crm_a.ann, today - timedelta(days=40), status="completed")
            schedule(crm_a.ann, today - timedelta(days=5), status="completed")
            rule = make_rule(crm_a, Trigger.ADHERENCE_DROPPING, [tag_step("slipping")])
            assert services.time_triggers_scan() == 1
            assert services.time_triggers_scan() == 0
            run = Run.objects.get(rule=rule)
            assert run.client == crm_a.bob
            assert run.occurrence_key == f"adherence_dropping:{crm_a.bob.pk}:{today:%Y-%m}"


class TestPausingAndDelays:
    def test_an_import_starts_no_welcome_series(
        self, crm_a: CrmGym, django_capture_on_commit_callbacks
    ) -> None:
        with tenant_context(crm_a.gym):
            rule = make_rule(crm_a, Trigger.CLIENT_CREATED, [tag_step()])
            # What apps.imports wraps each import in.
            with services.triggers_paused():
                new_client(crm_a, django_capture_on_commit_callbacks)
            assert not Run.objects.filter(rule=rule).exists()

    def test_a_paused_rule_starts_nothing(
        self, crm_a: CrmGym, django_capture_on_commit_callbacks
    ) -> None:
        with tenant_context(crm_a.gym):
            rule = make_rule(crm_a, Trigger.CLIENT_CREATED, [tag_step()], enabled=False)
            new_client(crm_a, django_capture_on_commit_callbacks)
            assert not Run.objects.filter(rule=rule).exists()

    def test_delays_are_honoured_and_pausing_stops_waiting_runs(
        self, crm_a: CrmGym, django_capture_on_commit_callbacks, monkeypatch
    ) -> None:
        start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda: start)
        with tenant_context(crm_a.gym):
            rule = make_rule(
                crm_a,
                Trigger.CLIENT_CREATED,
                [tag_step("day-0"), tag_step("day-2", delay_minutes=2 * 24 * 60)],
            )
            nia = new_client(crm_a, django_capture_on_commit_callbacks)
            run = Run.objects.get(rule=rule)
            assert run.status == RunStatus.WAITING
            assert run.next_step == 1
            assert run.due_at == start + timedelta(days=2)
            assert services.due_steps_run(now=start + timedelta(days=2, minutes=-1)) == 0
            nia.refresh_from_db()
            assert nia.tags == ["day-0"]
            assert services.due_steps_run(now=start + timedelta(days=2)) == 1
            nia.refresh_from_db()
            assert nia.tags == ["day-0", "day-2"]
            run.refresh_from_db()
            assert run.status == RunStatus.DONE

            other = new_client(crm_a, django_capture_on_commit_callbacks, email="o@example.com")
            services.rule_set_enabled(actor=crm_a.owner, rule=rule, enabled=False)
            assert services.due_steps_run(now=start + timedelta(days=5)) == 0
            other.refresh_from_db()
            assert other.tags == ["day-0"]
            assert Run.objects.get(rule=rule, client=other).status == RunStatus.STOPPED

    def test_a_worker_dying_mid_step_leaves_the_step_to_do_once(
        self, crm_a: CrmGym, monkeypatch
    ) -> None:
        from apps.automations.models import Action

        with tenant_context(crm_a.gym):
            rule = make_rule(
                crm_a,
                Trigger.BIRTHDAY,
                [
                    {"action": "create_task", "title": "Call {{ first_name }}"},
                    tag_step("birthday"),
                ],
            )
            run = Run.objects.create(
                rule=rule, occurrence_key="b:dies", client=crm_a.bob, due_at=timezone.now()
            )
            real = services.ACTIONS[Action.CREATE_TASK]

            def dies(*args, **kwargs):  # type: ignore[no-untyped-def]
                real(*args, **kwargs)
                raise SystemExit("worker killed")  # not an Exception: nothing catches it

            monkeypatch.setitem(services.ACTIONS, Action.CREATE_TASK, dies)
            with pytest.raises(SystemExit):
                services.due_steps_run()
            run.refresh_from_db()
            assert run.status == RunStatus.WAITING
            assert run.next_step == 0
            assert not StaffTask.objects.filter(client=crm_a.bob).exists()
            # The next pass (another worker) does it, once.
            monkeypatch.setitem(services.ACTIONS, Action.CREATE_TASK, real)
            assert services.due_steps_run() == 2
            assert services.due_steps_run() == 0
            assert StaffTask.objects.filter(client=crm_a.bob).count() == 1
            run.refresh_from_db()
            assert run.status == RunStatus.DONE
            assert len(run.log) == 2


class TestRules:
    def test_unknown_placeholder_is_refused_naming_the_step(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym), pytest.raises(ValidationError) as error:
            make_rule(
                crm_a,
                Trigger.CLIENT_CREATED,
                [{"action": "email", "subject": "Hi", "body": "Hello {{ nickname }}"}],
            )
        assert "nickname" in str(error.value.message_dict["steps"])
        assert "Step 1, body" in str(error.value.message_dict["steps"])

    def test_lead_rules_only_make_tasks(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym), pytest.raises(ValidationError) as error:
            make_rule(crm_a, Trigger.LEAD_CREATED, [tag_step()])
        assert "steps" in error.value.message_dict

    def test_thresholds_are_required_where_they_mean_something(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym), pytest.raises(ValidationError) as error:
            make_rule(crm_a, Trigger.NO_VISIT, [tag_step()])
        assert "threshold" in error.value.message_dict

    def test_only_management_manages_rules(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym), pytest.raises(PermissionDenied):
            services.rule_create(
                actor=crm_a.tina.user, name="x", trigger=Trigger.CLIENT_CREATED, steps=[tag_step()]
            )

    def test_every_preset_is_valid_and_created_off(self, crm_a: CrmGym) -> None:
        from apps.automations.presets import PRESETS

        with tenant_context(crm_a.gym):
            for preset in PRESETS:
                rule = services.rule_create_from_preset(actor=crm_a.owner, key=preset.key)
                assert not rule.enabled
                assert rule.steps


class TestGymIsolation:
    def test_a_rule_of_gym_a_never_touches_gym_b(
        self, crm_a: CrmGym, crm_b: CrmGym, django_capture_on_commit_callbacks
    ) -> None:
        from apps.core.fanout import fan_out

        with tenant_context(crm_a.gym):
            make_rule(crm_a, Trigger.CLIENT_CREATED, [tag_step("a-rule")])
            make_rule(
                crm_a,
                Trigger.BIRTHDAY,
                [{"action": "create_task", "title": "Birthday {{ first_name }}"}],
            )
        with tenant_context(crm_b.gym):
            today = gym_today()
            Client.objects.update(date_of_birth=date(1992, today.month, today.day))
            b_client = new_client(crm_b, django_capture_on_commit_callbacks)
            assert b_client.tags == []
            assert not Run.objects.exists()
        # The per-gym tasks, fanned out as beat does: each runs in its own schema.
        fan_out("automations.scan_time_triggers")
        fan_out("automations.run_due_steps")
        with tenant_context(crm_b.gym):
            assert not Run.objects.exists()
            assert not StaffTask.objects.exists()
            b_client.refresh_from_db()
            assert b_client.tags == []
        with tenant_context(crm_a.gym):
            assert not StaffTask.objects.exclude(client__in=Client.objects.all()).exists()


class TestPortalSignUp:
    def test_a_client_made_for_a_new_login_starts_client_created_once(
        self, crm_a: CrmGym, django_capture_on_commit_callbacks
    ) -> None:
        from tests.conftest import make_user

        with tenant_context(crm_a.gym):
            rule = make_rule(crm_a, Trigger.CLIENT_CREATED, [tag_step("welcomed")])
            with django_capture_on_commit_callbacks(execute=True):
                user = make_user("client", "zoe-portal@example.com", first_name="Zoe")
                crm_services.profile_ensure_for_role(user=user)
            zoe = Client.objects.get(user=user)
            assert Run.objects.filter(rule=rule, client=zoe).count() == 1
            zoe.refresh_from_db()
            assert zoe.tags == ["welcomed"]
            # Signing in again finds the record: no second occurrence.
            with django_capture_on_commit_callbacks(execute=True):
                crm_services.profile_ensure_for_role(user=user)
            assert Run.objects.filter(rule=rule).count() == 1

    def test_linking_a_login_to_a_client_staff_added_is_not_a_new_client(
        self, crm_a: CrmGym, django_capture_on_commit_callbacks
    ) -> None:
        from tests.conftest import make_user

        with tenant_context(crm_a.gym):
            existing = new_client(
                crm_a, django_capture_on_commit_callbacks, email="yan@example.com"
            )
            rule = make_rule(crm_a, Trigger.CLIENT_CREATED, [tag_step("welcomed")])
            with django_capture_on_commit_callbacks(execute=True):
                user = make_user("client", "yan@example.com", first_name="Yan")
                crm_services.profile_ensure_for_role(user=user)
            assert Client.objects.get(user=user) == existing
            assert not Run.objects.filter(rule=rule).exists()
