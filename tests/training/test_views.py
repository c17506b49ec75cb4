"""Staff pages: the exercise library and the plan builder."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.training import services
from apps.training.models import (
    PlanDay,
    PlanItem,
    PlanPhase,
    PlanWeek,
    ScheduledWorkout,
    WorkoutPlan,
)
from tests.conftest import GymClient
from tests.training.conftest import build_template, next_monday

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def signed_in(crm_a):  # type: ignore[no-untyped-def]
    def make(role: str) -> GymClient:
        client = GymClient(crm_a.gym.subdomain)
        client.force_login(crm_a.user(role))
        return client

    return make


def test_exercise_list_searches_live_and_pages(signed_in, lib_a):
    page = signed_in("tina").get("/training/exercises/")
    assert page.status_code == 200
    assert b'id="training-exercise-table"' in page.content
    fragment = signed_in("tina").get("/training/exercises/", {"search": "qx bicep"}, **HTMX)
    body = fragment.content.decode()
    assert "Qx Dumbbell Curl" in body
    assert "Qx Back Squat" not in body
    assert "<html" not in body
    filtered = signed_in("tina").get("/training/exercises/", {"search": "qx", "muscle": "lats"})
    assert "Qx Pull-Up" in filtered.content.decode()
    assert "Qx Dumbbell Curl" not in filtered.content.decode()


def test_exercise_list_queries_do_not_grow(signed_in, lib_a):
    client = signed_in("owner")
    client.get("/training/exercises/")  # warm the session
    counts = []
    for search in ("qx bicep", ""):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/training/exercises/", {"search": search}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_exercise_detail_and_variation_form(signed_in, lib_a):
    client = signed_in("tina")
    page = client.get(f"/training/exercises/{lib_a.squat.pk}/").content.decode()
    assert "Sit down between your heels." in page
    assert "Chest up" in page
    assert f"/training/exercises/{lib_a.squat.pk}/edit/" not in page  # library: read-only
    assert client.get(f"/training/exercises/{lib_a.squat.pk}/edit/").status_code == 403
    form = client.get(f"/training/exercises/new/?variation_of={lib_a.squat.pk}")
    assert form.status_code == 200
    response = client.post(
        "/training/exercises/new/",
        {
            "name": "Qx Tempo Squat",
            "category": "strength",
            "primary_muscles": ["quads"],
            "equipment": ["barbell"],
            "tracking": "weight_reps",
            "instructions": "Three seconds down.\nDrive up.",
            "variation_of": lib_a.squat.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    detail = client.get(response["Location"]).content.decode()
    assert "Three seconds down." in detail
    assert "Qx Back Squat" in detail


def test_front_desk_cannot_open_training_pages(signed_in, lib_a):
    desk = signed_in("desk")
    for path in ("/training/exercises/", "/training/plans/", "/training/plans/assign/"):
        assert desk.get(path).status_code == 403


def test_build_a_plan_on_the_builder_page(signed_in, crm_a, lib_a):
    client = signed_in("tina")
    response = client.post("/training/plans/new/", {"name": "Qx Page Plan", "status": "draft"})
    assert response.status_code == 302
    with tenant_context(crm_a.gym):
        plan = WorkoutPlan.objects.get(name="Qx Page Plan")
    fragment = client.post(f"/training/plans/{plan.pk}/phases/", {"name": "Base"}, **HTMX)
    assert 'id="plan-builder"' in fragment.content.decode()
    with tenant_context(crm_a.gym):
        phase = PlanPhase.objects.get(plan=plan)
    client.post(f"/training/phases/{phase.pk}/add_week/", **HTMX)
    with tenant_context(crm_a.gym):
        week = PlanWeek.objects.get(plan=plan)
    client.post(f"/training/weeks/{week.pk}/add_day/", {"offset": 2, "name": "Legs"}, **HTMX)
    with tenant_context(crm_a.gym):
        day = PlanDay.objects.get(week=week)
    picker = client.get("/training/exercises/picker/", {"search": "qx high-bar"})
    assert f'value="{lib_a.squat.pk}"' in picker.content.decode()
    bad = client.post(
        f"/training/days/{day.pk}/add_item/",
        {"exercise": lib_a.squat.pk, "kind": "strength", "sets": 3, "reps_min": 10, "reps_max": 6},
        **HTMX,
    )
    assert "top of the rep range" in bad.content.decode()
    good = client.post(
        f"/training/days/{day.pk}/add_item/",
        {
            "exercise": lib_a.squat.pk,
            "kind": "strength",
            "sets": 3,
            "reps_min": 6,
            "reps_max": 10,
            "load_value": "8",
            "load_unit": "rpe",
            "tempo": "3-1-1-0",
        },
        **HTMX,
    )
    assert "Qx Back Squat" in good.content.decode()
    client.post(
        f"/training/days/{day.pk}/add_item/",
        {"exercise": lib_a.run.pk, "kind": "cardio", "duration_seconds": 600},
        **HTMX,
    )
    with tenant_context(crm_a.gym):
        run = PlanItem.objects.get(day=day, exercise=lib_a.run)
    client.post(f"/training/items/{run.pk}/up/", **HTMX)
    with tenant_context(crm_a.gym):
        assert list(day.items.order_by("order").values_list("exercise_id", flat=True)) == [
            lib_a.run.pk,
            lib_a.squat.pk,
        ]
    # Without HTMX the same actions answer with the page.
    response = client.post(f"/training/items/{run.pk}/remove/")
    assert response.status_code == 302
    page = client.get(f"/training/plans/{plan.pk}/").content.decode()
    assert "Qx Back Squat" in page
    assert "Qx Treadmill Run" not in page
    # Tom may read Tina's template and copy it, not change it.
    tom = signed_in("tom")
    assert tom.post(f"/training/plans/{plan.pk}/phases/", {"name": "Tom's"}).status_code == 403
    copied = tom.post(f"/training/plans/{plan.pk}/copy/")
    assert copied.status_code == 302
    assert "Qx Back Squat" in tom.get(copied["Location"]).content.decode()


def test_assign_from_the_client_profile(signed_in, crm_a, lib_a):
    with tenant_context(crm_a.gym):
        template = build_template(crm_a.tina.user, lib_a)
    client = signed_in("tina")
    profile = client.get(f"/clients/{crm_a.ann.pk}/").content.decode()
    assert f"/training/plans/assign/?client={crm_a.ann.pk}" in profile
    form = client.get(f"/training/plans/assign/?client={crm_a.ann.pk}").content.decode()
    assert "Qx Strength Block" in form
    assert "Bob" not in form  # not Tina's client
    start = next_monday()
    response = client.post(
        "/training/plans/assign/",
        {"template": template.pk, "client": crm_a.bob.pk, "start_date": start.isoformat()},
    )
    assert response.status_code == 200  # Bob is not a choice
    response = client.post(
        "/training/plans/assign/",
        {"template": template.pk, "client": crm_a.ann.pk, "start_date": start.isoformat()},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Ann Able" in page
    assert 'data-testid="scheduled-table"' in page
    with tenant_context(crm_a.gym):
        assert ScheduledWorkout.objects.filter(client=crm_a.ann).count() == 4
        plan = WorkoutPlan.objects.get(client=crm_a.ann)
    listing = client.get("/training/plans/", {"kind": "clients"}).content.decode()
    assert "Ann Able" in listing
    client.post(f"/training/plans/{plan.pk}/archive/")
    with tenant_context(crm_a.gym):
        plan.refresh_from_db()
        assert plan.status == "archived"


def test_plan_pages_keep_gyms_apart(signed_in, crm_a, crm_b, lib_b):
    with tenant_context(crm_b.gym):
        b_plan = build_template(crm_b.owner, lib_b, name="Qx Bravo Only")
        services.plan_copy(actor=crm_b.owner, plan=b_plan)
    client = signed_in("owner")
    assert "Qx Bravo Only" not in client.get("/training/plans/").content.decode()
    with tenant_context(crm_a.gym):
        exists_in_a = WorkoutPlan.objects.filter(pk=b_plan.pk).exists()
    if not exists_in_a:
        assert client.get(f"/training/plans/{b_plan.pk}/").status_code == 404


def test_builder_and_plan_list_queries_do_not_grow(signed_in, crm_a, lib_a):
    with tenant_context(crm_a.gym):
        small = services.plan_create(actor=crm_a.owner, name="Qx Small")
        phase = services.phase_add(actor=crm_a.owner, plan=small, name="Only")
        week = services.week_add(actor=crm_a.owner, phase=phase)
        day = services.day_add(actor=crm_a.owner, week=week, offset=0)
        services.item_add(actor=crm_a.owner, day=day, exercise=lib_a.squat, sets=1, reps_min=1)
        big = build_template(crm_a.owner, lib_a)
        services.plan_copy(actor=crm_a.owner, plan=big)
    client = signed_in("owner")
    client.get("/training/plans/")  # warm the session

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    assert count(f"/training/plans/{small.pk}/") == count(f"/training/plans/{big.pk}/")
    assert count("/training/plans/?search=qx+small") == count("/training/plans/")


def test_edit_an_item_in_place(signed_in, crm_a, lib_a):
    with tenant_context(crm_a.gym):
        plan = build_template(crm_a.tina.user, lib_a)
        item = PlanItem.objects.get(day__week__plan=plan, exercise=lib_a.curl)
    client = signed_in("tina")
    form = client.get(f"/training/items/{item.pk}/edit/", **HTMX).content.decode()
    assert 'data-testid="item-edit"' in form
    assert "<html" not in form
    assert client.get(f"/training/items/{item.pk}/edit/").status_code == 200  # as a page
    values = {
        "exercise": lib_a.curl.pk,
        "kind": "strength",
        "sets": 4,
        "reps_min": 10,
        "reps_max": 8,
        "load_value": "2",
        "load_unit": "rir",
        "superset": "A",
    }
    bad = client.post(f"/training/items/{item.pk}/edit/", values, **HTMX).content.decode()
    assert "Reps (to): The top of the rep range is below its bottom." in bad
    client.post(f"/training/items/{item.pk}/edit/", {**values, "reps_max": 15}, **HTMX)
    with tenant_context(crm_a.gym):
        item.refresh_from_db()
        assert (item.sets, item.reps_min, item.reps_max) == (4, 10, 15)
    assert signed_in("tom").get(f"/training/items/{item.pk}/edit/").status_code == 403
