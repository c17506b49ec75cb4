"""Exercise library and plan services and selectors, inside gym A."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.training import library, selectors, services
from apps.training.models import (
    Exercise,
    PlanDay,
    PlanItem,
    PlanPhase,
    PlanStatus,
    PlanWeek,
    ScheduledWorkout,
    WorkoutPlan,
)
from tests.training.conftest import build_template, next_monday

pytestmark = pytest.mark.django_db


def names(exercises) -> set[str]:  # type: ignore[no-untyped-def]
    return {e.name for e in exercises}


# --- Exercise library ------------------------------------------------------------------------


class TestExerciseSearch:
    def test_search_by_name_or_alias_ignores_case(self, in_a, lib_a):
        viewer = in_a.tina.user
        assert names(selectors.exercise_list(viewer=viewer, search="qx BACK")) == {"Qx Back Squat"}
        assert names(selectors.exercise_list(viewer=viewer, search="qx high-bar")) == {
            "Qx Back Squat"
        }
        assert names(selectors.exercise_list(viewer=viewer, search="QX BICEP")) == {
            "Qx Dumbbell Curl"
        }
        assert names(selectors.exercise_list(viewer=viewer, search="qx  chin")) == {"Qx Pull-Up"}

    def test_filters(self, in_a, lib_a):
        viewer = in_a.owner

        def found(**filters):  # type: ignore[no-untyped-def]
            return names(selectors.exercise_list(viewer=viewer, search="qx", **filters))

        # A muscle matches primary or secondary muscles.
        assert found(muscle="biceps") == {"Qx Dumbbell Curl", "Qx Pull-Up"}
        assert found(muscle="hamstrings") == {"Qx Back Squat"}
        assert found(equipment="treadmill") == {"Qx Treadmill Run"}
        assert found(category="cardio") == {"Qx Treadmill Run"}
        assert found(mechanics="isolation") == {"Qx Dumbbell Curl"}
        assert found(source="gym") == set()
        assert found(source="library", muscle="lats") == {"Qx Pull-Up"}

    def test_a_bad_filter_names_the_parameter(self, in_a, lib_a):
        with pytest.raises(ValidationError) as error:
            selectors.exercise_list(viewer=in_a.owner, muscle="wings", source="elsewhere")
        assert set(error.value.message_dict) == {"muscle", "source"}

    def test_front_desk_sees_no_exercises(self, in_a, lib_a):
        assert not selectors.exercise_list(viewer=in_a.desk).exists()

    def test_search_uses_the_lower_cased_search_column(self, in_a, lib_a):
        assert lib_a.squat.search_text == "qx back squat | qx high-bar squat"
        query = str(selectors.exercise_list(viewer=in_a.owner, search="Squat").query)
        assert "search_text" in query
        assert "UPPER" not in query


class TestOwnExercises:
    def fields(self, **extra):  # type: ignore[no-untyped-def]
        return {
            "name": "Qx Sled Push",
            "category": "conditioning",
            "primary_muscles": ["quads"],
            "equipment": ["sled"],
            **extra,
        }

    def test_trainer_adds_edits_and_deactivates_their_own(self, in_a, lib_a):
        tina = in_a.tina.user
        sled = services.exercise_create(actor=tina, **self.fields(aliases=["Qx Prowler"]))
        assert not sled.is_library
        assert sled.slug.startswith("gym-")
        assert names(selectors.exercise_list(viewer=tina, search="qx prowler")) == {"Qx Sled Push"}
        assert names(selectors.exercise_list(viewer=tina, source="gym")) == {"Qx Sled Push"}
        services.exercise_update(actor=tina, exercise=sled, cues=["Low hips"])
        services.exercise_deactivate(actor=tina, exercise=sled)
        assert not selectors.exercise_list(viewer=tina, search="qx sled").exists()
        assert selectors.exercise_list(
            viewer=tina, search="qx sled", include_inactive=True
        ).exists()

    def test_only_the_creator_and_managers_may_change_it(self, in_a, lib_a):
        sled = services.exercise_create(actor=in_a.tina.user, **self.fields())
        with pytest.raises(PermissionDenied):
            services.exercise_update(actor=in_a.tom.user, exercise=sled, name="Mine now")
        services.exercise_update(actor=in_a.manager, exercise=sled, name="Qx Heavy Sled Push")
        with pytest.raises(PermissionDenied):
            services.exercise_create(actor=in_a.desk, **self.fields(name="Qx Other"))

    def test_library_exercises_are_read_only(self, in_a, lib_a):
        with pytest.raises(PermissionDenied, match="variation"):
            services.exercise_update(actor=in_a.owner, exercise=lib_a.squat, name="Squat!")
        with pytest.raises(PermissionDenied):
            services.exercise_delete(actor=in_a.owner, exercise=lib_a.squat)
        assert not selectors.can_edit_exercise(viewer=in_a.owner, exercise=lib_a.squat)

    def test_a_variation_of_a_library_exercise_inherits_its_fields(self, in_a, lib_a):
        box = services.exercise_variation_create(
            actor=in_a.tina.user,
            of=lib_a.squat,
            name="Qx Box Squat",
            equipment=["barbell", "plyo_box"],
        )
        assert box.variation_of == lib_a.squat
        assert box.primary_muscles == ["quads", "glutes"]
        assert box.instructions == lib_a.squat.instructions
        assert box.equipment == ["barbell", "plyo_box"]
        detail = selectors.exercise_get(viewer=in_a.tina.user, pk=lib_a.squat.pk)
        assert [v.name for v in detail.active_variations] == ["Qx Box Squat"]

    def test_names_are_unique_ignoring_case_and_library_included(self, in_a, lib_a):
        with pytest.raises(ValidationError) as error:
            services.exercise_create(actor=in_a.owner, **self.fields(name="qx back SQUAT"))
        assert "name" in error.value.message_dict

    def test_bad_values_name_their_field(self, in_a, lib_a):
        with pytest.raises(ValidationError) as error:
            services.exercise_create(
                actor=in_a.owner, **self.fields(primary_muscles=[], equipment=["spaceship"])
            )
        assert {"primary_muscles", "equipment"} <= set(error.value.message_dict)

    def test_a_used_exercise_cannot_be_deleted(self, in_a, lib_a):
        sled = services.exercise_create(actor=in_a.owner, **self.fields())
        plan = services.plan_create(actor=in_a.owner, name="Qx")
        phase = services.phase_add(actor=in_a.owner, plan=plan, name="A")
        week = services.week_add(actor=in_a.owner, phase=phase)
        day = services.day_add(actor=in_a.owner, week=week, offset=0)
        services.item_add(actor=in_a.owner, day=day, exercise=sled, sets=3, reps_min=10)
        with pytest.raises(ValidationError):
            services.exercise_delete(actor=in_a.owner, exercise=sled)
        unused = services.exercise_create(actor=in_a.owner, **self.fields(name="Qx Unused"))
        services.exercise_delete(actor=in_a.owner, exercise=unused)
        assert not Exercise.objects.filter(pk=unused.pk).exists()


def test_the_library_loader_inserts_updates_and_links_variations(in_a, tmp_path, monkeypatch):
    entries = [
        {
            "slug": "qy-goblet-squat",
            "name": "Qy Goblet Squat",
            "aliases": ["Qy Cup Squat"],
            "category": "strength",
            "primary_muscles": ["quads"],
            "secondary_muscles": [],
            "equipment": ["kettlebell"],
            "mechanics": "compound",
            "tracking": "weight_reps",
            "instructions": ["Hold the bell at your chest."],
            "cues": [],
            "licence": "CC-BY-4.0",
            "variation_of": "qy-front-squat",
        },
        {
            "slug": "qy-front-squat",
            "name": "Qy Front Squat",
            "aliases": [],
            "category": "strength",
            "primary_muscles": ["quads"],
            "secondary_muscles": ["glutes"],
            "equipment": ["barbell"],
            "tracking": "weight_reps",
            "instructions": [],
            "cues": [],
            "licence": "CC-BY-4.0",
        },
    ]
    path = tmp_path / "exercises.json"
    path.write_text(json.dumps(entries))
    monkeypatch.setattr(library, "LIBRARY_FILE", path)
    library.library_entries.cache_clear()
    try:
        assert library.library_sync() == 2
        assert library.library_sync() == 0
        goblet = Exercise.objects.get(slug="qy-goblet-squat")
        assert goblet.is_library
        assert goblet.variation_of.slug == "qy-front-squat"
        assert "qy cup squat" in goblet.search_text
        entries[0]["aliases"] = ["Qy Cup Squat", "Qy Bell Squat"]
        path.write_text(json.dumps(entries))
        library.library_entries.cache_clear()
        assert library.library_sync() == 1
        assert names(selectors.exercise_list(viewer=in_a.owner, search="bell squat")) == {
            "Qy Goblet Squat"
        }
    finally:
        library.library_entries.cache_clear()


# --- Building plans --------------------------------------------------------------------------


class TestBuilding:
    def test_weeks_are_numbered_across_phases(self, in_a, lib_a):
        plan = build_template(in_a.tina.user, lib_a)
        weeks = PlanWeek.objects.filter(plan=plan).select_related("phase").order_by("number")
        assert [(w.number, w.phase.name) for w in weeks] == [(1, "Base"), (2, "Base"), (3, "Peak")]
        peak = PlanPhase.objects.get(plan=plan, name="Peak")
        services.phase_move(actor=in_a.tina.user, phase=peak, direction="up")
        weeks = PlanWeek.objects.filter(plan=plan).select_related("phase").order_by("number")
        assert [(w.number, w.phase.name) for w in weeks] == [(1, "Peak"), (2, "Base"), (3, "Base")]
        services.week_remove(actor=in_a.tina.user, week=weeks[1])
        assert list(PlanWeek.objects.filter(plan=plan).values_list("number", flat=True)) == [1, 2]

    def test_items_are_reordered_up_and_down(self, in_a, lib_a):
        plan = build_template(in_a.owner, lib_a)
        day = PlanDay.objects.get(week__plan=plan, name="Legs")
        squat, run = PlanItem.objects.filter(day=day).order_by("order")
        services.item_move(actor=in_a.owner, item=run, direction="up")
        assert list(day.items.order_by("order").values_list("pk", flat=True)) == [run.pk, squat.pk]
        services.item_move(actor=in_a.owner, item=run, direction="up")  # already first: no-op
        services.item_remove(actor=in_a.owner, item=run)
        assert list(day.items.values_list("order", flat=True)) == [1]

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"sets": 3, "reps_min": 12, "reps_max": 8}, "reps_max"),
            ({"sets": 3, "reps_min": 5, "tempo": "fast"}, "tempo"),
            ({"sets": 3, "reps_min": 5, "load_value": 60}, "load_unit"),
            ({"sets": 3, "reps_min": 5, "load_value": 11, "load_unit": "rpe"}, "load_value"),
            ({"sets": 3, "reps_min": 5, "heart_rate_zone": 6}, "heart_rate_zone"),
            ({"reps_min": 5}, "sets"),
            ({"sets": 3, "superset": "1"}, "superset"),
            ({"kind": "cardio", "heart_rate_zone": 2}, "duration_seconds"),
        ],
    )
    def test_a_bad_prescription_names_its_field(self, in_a, lib_a, fields, field):
        plan = services.plan_create(actor=in_a.owner, name="Qx")
        phase = services.phase_add(actor=in_a.owner, plan=plan, name="A")
        week = services.week_add(actor=in_a.owner, phase=phase)
        day = services.day_add(actor=in_a.owner, week=week, offset=0)
        with pytest.raises(ValidationError) as error:
            services.item_add(actor=in_a.owner, day=day, exercise=lib_a.squat, **fields)
        assert field in error.value.message_dict

    def test_a_day_twice_in_a_week_names_offset(self, in_a, lib_a):
        plan = build_template(in_a.owner, lib_a)
        week = PlanWeek.objects.get(plan=plan, number=1)
        with pytest.raises(ValidationError) as error:
            services.day_add(actor=in_a.owner, week=week, offset=2)
        assert "offset" in error.value.message_dict
        with pytest.raises(ValidationError) as error:
            services.day_add(actor=in_a.owner, week=week, offset=7)
        assert "offset" in error.value.message_dict

    def test_only_the_author_and_managers_edit_a_template(self, in_a, lib_a):
        plan = build_template(in_a.tina.user, lib_a)
        with pytest.raises(PermissionDenied):
            services.phase_add(actor=in_a.tom.user, plan=plan, name="Tom's")
        with pytest.raises(PermissionDenied):
            services.plan_create(actor=in_a.desk, name="Desk plan")
        services.phase_add(actor=in_a.manager, plan=plan, name="Deload")


def test_copy_is_deep_and_independent(in_a, lib_a):
    original = build_template(in_a.tina.user, lib_a)
    copy = services.plan_copy(actor=in_a.tom.user, plan=original)
    assert copy.is_template
    assert copy.source == original
    assert copy.created_by == in_a.tom.user
    assert copy.status == PlanStatus.DRAFT
    assert copy.name == "Qx Strength Block (copy)"
    assert PlanPhase.objects.filter(plan=copy).count() == 2
    assert PlanWeek.objects.filter(plan=copy).count() == 3
    assert PlanDay.objects.filter(week__plan=copy).count() == 4
    copied_items = PlanItem.objects.filter(day__week__plan=copy)
    assert copied_items.count() == 5
    assert not copied_items.filter(day__week__plan=original).exists()
    curl = copied_items.get(exercise=lib_a.curl)
    assert (curl.reps_min, curl.reps_max, curl.load_unit, curl.superset) == (8, 12, "rir", "A")
    # Tom made the copy: he may change it; the original stays as it was.
    services.item_remove(actor=in_a.tom.user, item=curl)
    services.phase_remove(actor=in_a.tom.user, phase=PlanPhase.objects.get(plan=copy, name="Peak"))
    assert PlanItem.objects.filter(day__week__plan=original).count() == 5
    assert PlanWeek.objects.filter(plan=original).count() == 3


# --- Assigning -------------------------------------------------------------------------------


class TestAssign:
    def test_schedules_each_day_on_its_date(self, in_a, lib_a):
        template = build_template(in_a.tina.user, lib_a)
        start = next_monday()
        plan = services.plan_assign(
            template=template, client=in_a.ann, start_date=start, by=in_a.tina.user
        )
        assert not plan.is_template
        assert plan.client == in_a.ann
        assert plan.source == template
        assert plan.status == PlanStatus.ACTIVE
        assert plan.start_date == start
        dates = sorted(
            ScheduledWorkout.objects.filter(plan=plan, client=in_a.ann).values_list(
                "date", flat=True
            )
        )
        # Week 1 days 0 and 2, week 2 day 0, week 3 (second phase) day 4.
        assert dates == [
            start,
            start + timedelta(days=2),
            start + timedelta(days=7),
            start + timedelta(days=18),
        ]
        assert PlanItem.objects.filter(day__week__plan=plan).count() == 5
        assert set(
            ScheduledWorkout.objects.filter(plan=plan).values_list("day__week__plan", flat=True)
        ) == {plan.pk}

    def test_a_trainer_assigns_only_to_their_clients(self, in_a, lib_a):
        template = build_template(in_a.tina.user, lib_a)
        with pytest.raises(PermissionDenied):
            services.plan_assign(
                template=template, client=in_a.bob, start_date=next_monday(), by=in_a.tina.user
            )
        with pytest.raises(PermissionDenied):  # Cara is Tom's
            services.plan_assign(
                template=template, client=in_a.cara, start_date=next_monday(), by=in_a.tina.user
            )
        services.plan_assign(
            template=template, client=in_a.bob, start_date=next_monday(), by=in_a.manager
        )
        with pytest.raises(PermissionDenied):
            services.plan_assign(
                template=template, client=in_a.ann, start_date=next_monday(), by=in_a.desk
            )

    def test_start_date_at_most_a_week_ago(self, in_a, lib_a):
        template = build_template(in_a.owner, lib_a)
        today = timezone.localdate()
        with pytest.raises(ValidationError) as error:
            services.plan_assign(
                template=template,
                client=in_a.ann,
                start_date=today - timedelta(days=8),
                by=in_a.owner,
            )
        assert "start_date" in error.value.message_dict
        services.plan_assign(
            template=template, client=in_a.ann, start_date=today - timedelta(days=7), by=in_a.owner
        )

    def test_only_templates_with_days_are_assigned(self, in_a, lib_a):
        empty = services.plan_create(actor=in_a.owner, name="Qx Empty")
        with pytest.raises(ValidationError) as error:
            services.plan_assign(
                template=empty, client=in_a.ann, start_date=next_monday(), by=in_a.owner
            )
        assert "template" in error.value.message_dict

    def test_archive_removes_the_future_and_keeps_the_past(self, in_a, lib_a):
        template = build_template(in_a.owner, lib_a)
        today = timezone.localdate()
        plan = services.plan_assign(
            template=template, client=in_a.ann, start_date=today - timedelta(days=7), by=in_a.owner
        )
        # Past: week 1 (days -7 and -5); future: week 2 (today) and week 3 (+11).
        services.plan_unassign(actor=in_a.owner, plan=plan)
        plan.refresh_from_db()
        assert plan.status == PlanStatus.ARCHIVED
        remaining = list(ScheduledWorkout.objects.filter(plan=plan).values_list("date", flat=True))
        assert sorted(remaining) == [today - timedelta(days=7), today - timedelta(days=5)]
        with pytest.raises(ValidationError):
            services.phase_add(actor=in_a.owner, plan=plan, name="More")

    def test_changing_a_client_plan_keeps_its_calendar_in_step(self, in_a, lib_a):
        template = build_template(in_a.owner, lib_a)
        start = next_monday()
        plan = services.plan_assign(
            template=template, client=in_a.ann, start_date=start, by=in_a.tina.user
        )
        week3 = PlanWeek.objects.get(plan=plan, number=3)
        day = services.day_add(actor=in_a.tina.user, week=week3, offset=6)
        assert ScheduledWorkout.objects.get(day=day).date == start + timedelta(days=20)
        services.day_update(actor=in_a.tina.user, day=day, offset=5)
        assert ScheduledWorkout.objects.get(day=day).date == start + timedelta(days=19)
        services.day_remove(actor=in_a.tina.user, day=day)
        assert ScheduledWorkout.objects.filter(plan=plan).count() == 4


# --- Who sees what ---------------------------------------------------------------------------


def test_visibility_of_plans_and_scheduled_workouts(in_a, lib_a):
    template = build_template(in_a.tina.user, lib_a)
    anns = services.plan_assign(
        template=template, client=in_a.ann, start_date=next_monday(), by=in_a.tina.user
    )
    caras = services.plan_assign(
        template=template, client=in_a.cara, start_date=next_monday(), by=in_a.tom.user
    )

    def plans(viewer):  # type: ignore[no-untyped-def]
        return set(selectors.plan_list(viewer=viewer).values_list("pk", flat=True))

    assert plans(in_a.owner) >= {template.pk, anns.pk, caras.pk}
    assert plans(in_a.tina.user) == {template.pk, anns.pk}
    assert plans(in_a.tom.user) == {template.pk, caras.pk}
    assert plans(in_a.cara_user) == {caras.pk}
    assert plans(in_a.desk) == set()
    cara_days = selectors.scheduled_workout_list(viewer=in_a.cara_user)
    assert {w.client_id for w in cara_days} == {in_a.cara.pk}
    assert len(cara_days) == 4
    assert not selectors.scheduled_workout_list(viewer=in_a.desk).exists()
    start = next_monday()
    window = selectors.scheduled_workout_list(
        viewer=in_a.owner, client=in_a.ann, date_from=start, date_to=start + timedelta(days=6)
    )
    assert len(window) == 2
    # A client never sees a plan still being drafted for them.
    WorkoutPlan.objects.filter(pk=caras.pk).update(status=PlanStatus.DRAFT)
    assert plans(in_a.cara_user) == set()


def test_scheduled_workout_status(in_a, lib_a):
    template = build_template(in_a.owner, lib_a)
    plan = services.plan_assign(
        template=template, client=in_a.cara, start_date=next_monday(), by=in_a.owner
    )
    workout = ScheduledWorkout.objects.filter(plan=plan).first()
    services.scheduled_workout_status_set(actor=in_a.cara_user, workout=workout, status="skipped")
    workout.refresh_from_db()
    assert workout.status == "skipped"
    with pytest.raises(PermissionDenied):  # Cara is Tom's client, not Tina's
        services.scheduled_workout_status_set(
            actor=in_a.tina.user, workout=workout, status="completed"
        )
    with pytest.raises(ValidationError):
        services.scheduled_workout_status_set(actor=in_a.owner, workout=workout, status="late")
