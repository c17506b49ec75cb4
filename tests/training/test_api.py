"""The training API: exercises, plans and their parts, scheduled workouts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.training import services
from apps.training.models import Exercise, ScheduledWorkout, WorkoutPlan
from tests.conftest import ALPHA, BRAVO
from tests.training.conftest import build_template, next_monday

pytestmark = pytest.mark.django_db


def results(response) -> list[dict]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return response.json()["results"]


def count_queries(api: APIClient, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path)
    assert response.status_code == 200, response.content
    return len(queries)


# --- Exercises -------------------------------------------------------------------------------


class TestExercises:
    def test_search_and_filters(self, api_as, lib_a):
        api = api_as("tina")
        found = results(api.get("/api/v1/exercises/", {"search": "QX BICEP"}))
        assert [e["name"] for e in found] == ["Qx Dumbbell Curl"]
        assert found[0]["is_library"]
        assert not found[0]["can_edit"]
        found = results(api.get("/api/v1/exercises/", {"search": "qx", "muscle": "biceps"}))
        assert {e["name"] for e in found} == {"Qx Dumbbell Curl", "Qx Pull-Up"}
        found = results(
            api.get(
                "/api/v1/exercises/", {"search": "qx", "equipment": "barbell", "source": "library"}
            )
        )
        assert [e["name"] for e in found] == ["Qx Back Squat"]

    def test_a_bad_filter_is_a_400_naming_it(self, api_as, lib_a):
        response = api_as("tina").get("/api/v1/exercises/", {"category": "dance"})
        assert response.status_code == 400
        assert "category" in response.json()["errors"]

    def test_list_queries_do_not_grow_with_the_page(self, api_as, crm_a, lib_a):
        with tenant_context(crm_a.gym):
            for n in range(12):
                services.exercise_create(
                    actor=crm_a.owner,
                    name=f"Qx Variant {n}",
                    category="strength",
                    primary_muscles=["chest"],
                    equipment=["dumbbell"],
                    variation_of=lib_a.curl,
                )
        api = api_as("owner")
        small = count_queries(api, "/api/v1/exercises/?search=qx&page_size=2")
        large = count_queries(api, "/api/v1/exercises/?search=qx&page_size=16")
        assert small == large

    def test_library_rows_refuse_writes_with_a_clear_message(self, api_as, lib_a):
        api = api_as("owner")
        for method in ("patch", "put", "delete"):
            response = getattr(api, method)(
                f"/api/v1/exercises/{lib_a.squat.pk}/", {"name": "Mine"}, format="json"
            )
            assert response.status_code == 403, method
            assert "variation" in response.json()["title"]

    def test_private_exercise_crud(self, api_as, lib_a):
        tina = api_as("tina")
        response = tina.post(
            "/api/v1/exercises/",
            {
                "name": "Qx Landmine Press",
                "aliases": ["Qx Angled Press"],
                "category": "strength",
                "primary_muscles": ["front_delts"],
                "equipment": ["landmine", "barbell"],
                "mechanics": "compound",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        created = response.json()
        assert not created["is_library"]
        assert created["can_edit"]
        path = f"/api/v1/exercises/{created['id']}/"
        response = tina.patch(path, {"cues": ["Punch up"]}, format="json")
        assert response.status_code == 200
        assert response.json()["cues"] == ["Punch up"]
        # Another trainer may read it, not change it.
        tom = api_as("tom")
        assert tom.get(path).status_code == 200
        assert tom.patch(path, {"cues": []}, format="json").status_code == 403
        response = tina.post(
            "/api/v1/exercises/",
            {
                "name": "qx landmine PRESS",
                "category": "strength",
                "primary_muscles": ["chest"],
                "equipment": ["barbell"],
            },
            format="json",
        )
        assert response.status_code == 400
        assert "name" in response.json()["errors"]
        assert tina.delete(path).status_code == 204

    def test_a_variation_of_a_library_exercise(self, api_as, lib_a):
        response = api_as("tina").post(
            f"/api/v1/exercises/{lib_a.squat.pk}/variation/",
            {"name": "Qx Pause Squat", "cues": ["Two seconds in the hole"]},
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["variation_of"]["id"] == lib_a.squat.pk
        assert body["primary_muscles"] == ["quads", "glutes"]
        assert body["cues"] == ["Two seconds in the hole"]

    def test_front_desk_has_no_access(self, api_as, lib_a):
        assert api_as("desk").get("/api/v1/exercises/").status_code == 403
        assert api_as("desk").get("/api/v1/plans/").status_code == 403


# --- Plans -----------------------------------------------------------------------------------


class TestPlans:
    def test_build_a_plan_through_the_api(self, api_as, lib_a):
        api = api_as("tina")
        plan = api.post(
            "/api/v1/plans/", {"name": "Qx API plan", "goal": "Pull-ups"}, format="json"
        )
        assert plan.status_code == 201, plan.content
        plan_id = plan.json()["id"]
        phase = api.post("/api/v1/plan-phases/", {"plan": plan_id, "name": "Base"}, format="json")
        assert phase.status_code == 201, phase.content
        week = api.post("/api/v1/plan-weeks/", {"phase": phase.json()["id"]}, format="json")
        assert week.status_code == 201
        assert week.json()["number"] == 1
        day = api.post(
            "/api/v1/plan-days/",
            {"week": week.json()["id"], "offset": 1, "name": "Pull"},
            format="json",
        )
        assert day.status_code == 201, day.content
        item = {"day": day.json()["id"], "exercise": lib_a.pullup.pk, "sets": 4, "reps_min": 5}
        first = api.post("/api/v1/plan-items/", item, format="json")
        assert first.status_code == 201, first.content
        second = api.post(
            "/api/v1/plan-items/",
            {**item, "exercise": lib_a.curl.pk, "reps_min": 12, "reps_max": 10},
            format="json",
        )
        assert second.status_code == 400
        assert list(second.json()["errors"]) == ["reps_max"]
        second = api.post(
            "/api/v1/plan-items/",
            {**item, "exercise": lib_a.curl.pk, "tempo": "slow"},
            format="json",
        )
        assert second.status_code == 400
        assert "tempo" in second.json()["errors"]
        second = api.post(
            "/api/v1/plan-items/",
            {**item, "exercise": lib_a.curl.pk, "load_value": "10"},
            format="json",
        )
        assert second.status_code == 400
        assert "load_unit" in second.json()["errors"]
        second = api.post(
            "/api/v1/plan-items/",
            {
                "day": day.json()["id"],
                "exercise": lib_a.run.pk,
                "kind": "cardio",
                "duration_seconds": 900,
                "heart_rate_zone": 3,
            },
            format="json",
        )
        assert second.status_code == 201, second.content
        moved = api.post(
            f"/api/v1/plan-items/{second.json()['id']}/move/", {"direction": "up"}, format="json"
        )
        assert moved.status_code == 200
        assert moved.json()["order"] == 1
        detail = api.get(f"/api/v1/plans/{plan_id}/").json()
        items = detail["phases"][0]["weeks"][0]["days"][0]["items"]
        assert [i["exercise"]["name"] for i in items] == ["Qx Treadmill Run", "Qx Pull-Up"]
        assert items[0]["heart_rate_zone"] == 3
        patched = api.patch(
            f"/api/v1/plan-items/{first.json()['id']}/", {"heart_rate_zone": 6}, format="json"
        )
        assert patched.status_code == 400
        assert "heart_rate_zone" in patched.json()["errors"]

    def test_detail_and_list_queries_stay_flat(self, api_as, crm_a, lib_a):
        with tenant_context(crm_a.gym):
            small = services.plan_create(actor=crm_a.owner, name="Qx Small")
            phase = services.phase_add(actor=crm_a.owner, plan=small, name="Only")
            week = services.week_add(actor=crm_a.owner, phase=phase)
            day = services.day_add(actor=crm_a.owner, week=week, offset=0)
            services.item_add(actor=crm_a.owner, day=day, exercise=lib_a.squat, sets=1, reps_min=1)
            big = build_template(crm_a.owner, lib_a)
            for n in range(6):
                build_template(crm_a.owner, lib_a, name=f"Qx More {n}")
        api = api_as("owner")
        assert count_queries(api, f"/api/v1/plans/{small.pk}/") == count_queries(
            api, f"/api/v1/plans/{big.pk}/"
        )
        assert count_queries(api, "/api/v1/plans/?page_size=2") == count_queries(
            api, "/api/v1/plans/?page_size=10"
        )

    def test_copy_endpoint(self, api_as, crm_a, lib_a):
        with tenant_context(crm_a.gym):
            template = build_template(crm_a.tina.user, lib_a)
        response = api_as("tom").post(
            f"/api/v1/plans/{template.pk}/copy/", {"name": "Qx Tom's block"}, format="json"
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["is_template"]
        assert body["source"] == template.pk
        assert body["can_edit"]
        assert sum(len(w["days"]) for p in body["phases"] for w in p["weeks"]) == 4

    def test_assign_endpoint_and_scheduled_workouts(self, api_as, crm_a, lib_a):
        with tenant_context(crm_a.gym):
            template = build_template(crm_a.tina.user, lib_a)
        start = next_monday()
        tina = api_as("tina")
        response = tina.post(
            f"/api/v1/plans/{template.pk}/assign/",
            {"client": crm_a.ann.pk, "start_date": start.isoformat()},
            format="json",
        )
        assert response.status_code == 201, response.content
        plan = response.json()
        assert plan["client"] == {"id": crm_a.ann.pk, "name": "Ann Able"}
        assert not plan["is_template"]
        assert plan["status"] == "active"
        # Bob is nobody's client: to Tina he does not exist.
        response = tina.post(
            f"/api/v1/plans/{template.pk}/assign/",
            {"client": crm_a.bob.pk, "start_date": start.isoformat()},
            format="json",
        )
        assert response.status_code == 400
        assert "client" in response.json()["errors"]
        response = tina.post(
            f"/api/v1/plans/{template.pk}/assign/",
            {"client": crm_a.ann.pk, "start_date": (start - timedelta(days=30)).isoformat()},
            format="json",
        )
        assert response.status_code == 400
        assert "start_date" in response.json()["errors"]

        workouts = results(
            tina.get(
                "/api/v1/scheduled-workouts/",
                {
                    "client": crm_a.ann.pk,
                    "date_from": start.isoformat(),
                    "date_to": (start + timedelta(days=7)).isoformat(),
                },
            )
        )
        assert [w["date"] for w in workouts] == [
            start.isoformat(),
            (start + timedelta(days=2)).isoformat(),
            (start + timedelta(days=7)).isoformat(),
        ]
        assert workouts[2]["week"] == 2
        bad = tina.get(
            "/api/v1/scheduled-workouts/", {"date_from": "2026-02-01", "date_to": "2026-01-01"}
        )
        assert bad.status_code == 400
        assert "date_to" in bad.json()["errors"]

    def test_clients_see_their_own_plans_only(self, api_as, crm_a, lib_a):
        with tenant_context(crm_a.gym):
            template = build_template(crm_a.owner, lib_a)
            caras = services.plan_assign(
                template=template, client=crm_a.cara, start_date=next_monday(), by=crm_a.owner
            )
            anns = services.plan_assign(
                template=template, client=crm_a.ann, start_date=next_monday(), by=crm_a.owner
            )
        cara = api_as("cara")
        assert [p["id"] for p in results(cara.get("/api/v1/plans/"))] == [caras.pk]
        assert cara.get(f"/api/v1/plans/{anns.pk}/").status_code == 404
        assert cara.get(f"/api/v1/plans/{template.pk}/").status_code == 404
        assert cara.get(f"/api/v1/plans/{caras.pk}/").status_code == 200
        workouts = results(cara.get("/api/v1/scheduled-workouts/"))
        assert len(workouts) == 4
        assert {w["client"]["id"] for w in workouts} == {crm_a.cara.pk}
        # Reading is all a client does.
        assert cara.post(f"/api/v1/plans/{caras.pk}/archive/").status_code == 403
        assert cara.post("/api/v1/plans/", {"name": "Mine"}, format="json").status_code == 403

    def test_scheduled_workouts_queries_stay_flat(self, api_as, crm_a, lib_a):
        with tenant_context(crm_a.gym):
            template = build_template(crm_a.owner, lib_a)
            for client in (crm_a.ann, crm_a.bob, crm_a.cara):
                services.plan_assign(
                    template=template, client=client, start_date=next_monday(), by=crm_a.owner
                )
        api = api_as("owner")
        assert count_queries(api, "/api/v1/scheduled-workouts/?page_size=2") == count_queries(
            api, "/api/v1/scheduled-workouts/?page_size=12"
        )

    def test_archive_and_delete(self, api_as, crm_a, lib_a):
        with tenant_context(crm_a.gym):
            template = build_template(crm_a.owner, lib_a)
            plan = services.plan_assign(
                template=template,
                client=crm_a.ann,
                start_date=timezone.localdate(),
                by=crm_a.owner,
            )
        api = api_as("tina")
        assert api.delete(f"/api/v1/plans/{plan.pk}/").status_code == 400
        response = api.post(f"/api/v1/plans/{plan.pk}/archive/")
        assert response.status_code == 200
        assert response.json()["status"] == "archived"
        with tenant_context(crm_a.gym):
            assert not ScheduledWorkout.objects.filter(plan_id=plan.pk).exists()
        # Tina did not write the template: she may not delete it; the owner may.
        assert api.delete(f"/api/v1/plans/{template.pk}/").status_code == 403
        assert api_as("owner").delete(f"/api/v1/plans/{template.pk}/").status_code == 204


# --- Gym A and gym B -------------------------------------------------------------------------


def test_gym_a_cannot_see_or_use_gym_b(crm_a, crm_b, lib_a, lib_b):
    with tenant_context(crm_b.gym):
        b_exercise = services.exercise_create(
            actor=crm_b.owner,
            name="Qx Bravo Secret Lift",
            category="strength",
            primary_muscles=["chest"],
            equipment=["barbell"],
        )
        b_plan = build_template(crm_b.owner, lib_b, name="Qx Bravo Block")
        b_client_plan = services.plan_assign(
            template=b_plan, client=crm_b.ann, start_date=next_monday(), by=crm_b.owner
        )
    with tenant_context(crm_a.gym):
        # Ids that exist in B and not in A (A's objects are fewer).
        b_only_plan = WorkoutPlan.objects.filter(pk=b_client_plan.pk).exists()
        a_template = build_template(crm_a.owner, lib_a, name="Qx Alpha Block")
    api = APIClient(HTTP_HOST=ALPHA.host)
    api.force_authenticate(crm_a.owner)
    found = results(api.get("/api/v1/exercises/", {"search": "bravo"}))
    assert found == []
    response = api.get(f"/api/v1/exercises/{b_exercise.pk}/")
    assert response.status_code == 404 or "Bravo" not in response.content.decode()
    plans = results(api.get("/api/v1/plans/"))
    assert "Qx Bravo Block" not in {p["name"] for p in plans}
    if not b_only_plan:
        assert api.get(f"/api/v1/plans/{b_client_plan.pk}/").status_code == 404
    # B's client id given to A: 400 (A has no such client) or, if the id exists in A, A's own.
    with tenant_context(crm_a.gym):
        from apps.crm.models import Client

        missing = Client.objects.order_by("-pk").first().pk + 1000
    response = api.post(
        f"/api/v1/plans/{a_template.pk}/assign/",
        {"client": missing, "start_date": next_monday().isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert "client" in response.json()["errors"]
    with tenant_context(crm_a.gym):
        assert not Exercise.objects.filter(name="Qx Bravo Secret Lift").exists()
    bravo = APIClient(HTTP_HOST=BRAVO.host)
    bravo.force_authenticate(crm_b.owner)
    assert "Qx Alpha Block" not in {p["name"] for p in results(bravo.get("/api/v1/plans/"))}


def test_openapi_schema_is_warning_free(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in (
        "/api/v1/exercises/",
        "/api/v1/exercises/{id}/variation/",
        "/api/v1/plans/{id}/assign/",
        "/api/v1/plans/{id}/copy/",
        "/api/v1/plan-items/{id}/move/",
        "/api/v1/scheduled-workouts/",
    ):
        assert path in text
