"""The portal's workout pages (phone-first logging with HTMX) and the staff progress page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.training.models import ScheduledWorkout
from apps.workouts import selectors, services
from apps.workouts.models import CardioLog, SetLog, WorkoutLog
from tests.conftest import BRAVO, GymClient
from tests.workouts.conftest import Training, schedule

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def scheduled(training_a: Training) -> ScheduledWorkout:
    with tenant_context(training_a.crm.gym):
        workout = schedule(training_a.crm.cara, selectors.gym_today(), day=training_a.day)
    connection.set_schema_to_public()
    return workout


@pytest.fixture
def cara(client_a, training_a: Training):
    client_a.force_login(training_a.crm.cara_user)
    return client_a


def _form_values(html: str, block_key: str) -> dict[str, str]:
    """The inputs of the next-set form in one exercise block, as the browser would send them."""
    block = html.split(f'id="block-{block_key}"', 1)[1].split("</section>", 1)[0]
    values = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', block))
    return values


def test_the_list_shows_today_and_the_nav_names_the_page(cara, scheduled):
    response = cara.get("/portal/workouts/")
    assert response.status_code == 200
    body = response.content.decode()
    # The current page's link (its icon, then its label) names Workouts.
    assert re.search(r'aria-current="page">(?:(?!</a>).)*>Workouts<', body, re.S)
    assert "Day " in body
    assert 'data-testid="workouts-today"' in body


def test_logging_a_workout_in_the_portal(cara, training_a: Training, scheduled):
    started = cara.post("/portal/workouts/start/", {"scheduled_workout": scheduled.pk})
    assert started.status_code == 302
    page = cara.get(started["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "3 \u00d7 5" in html  # the prescription: 3 sets of 5
    assert 'src="/static/workouts/workouts.js"' in html
    assert "<script>" not in html  # no inline script (strict CSP)
    assert 'data-rest-seconds="90"' in html

    squat = f"i{training_a.squat_item.pk}"
    form = _form_values(html, squat)
    assert form["set_number"] == "1"
    log_id = int(started["Location"].rstrip("/").rsplit("/", 1)[1])
    post = {**form, "reps": "5", "load": "100", "rpe": "8", "rir": ""}
    first = cara.post(f"/portal/workouts/{log_id}/sets/", post, **HTMX)
    again = cara.post(f"/portal/workouts/{log_id}/sets/", post, **HTMX)  # the phone retried
    assert first.status_code == again.status_code == 200
    assert "data-just-logged" in first.content.decode()
    assert _form_values(first.content.decode(), squat)["set_number"] == "2"

    cara.post(f"/portal/workouts/{log_id}/skip/", {"plan_item": training_a.bench_item.pk}, **HTMX)
    done = cara.post(f"/portal/workouts/{log_id}/complete/", {"perceived_effort": "7"})
    assert done.status_code == 302
    with tenant_context(training_a.crm.gym):
        assert SetLog.objects.filter(log_id=log_id, skipped=False).count() == 1
        assert SetLog.objects.get(log_id=log_id, plan_item=training_a.bench_item).skipped
        assert CardioLog.objects.get(log_id=log_id).skipped  # the rowing nobody logged
        assert ScheduledWorkout.objects.get(pk=scheduled.pk).status == "completed"
        assert WorkoutLog.objects.get(pk=log_id).perceived_effort == 7


def test_a_new_record_shows_a_badge(cara, training_a: Training, scheduled):
    crm = training_a.crm
    with tenant_context(crm.gym):
        before, _ = services.workout_start(
            actor=crm.owner, client=crm.cara, performed_on=selectors.gym_today() - timedelta(days=3)
        )
        services.set_log_create(
            actor=crm.owner, log=before, exercise=training_a.squat, reps=5, load=100
        )
        log, _ = services.workout_start(
            actor=crm.cara_user, client=crm.cara, scheduled_workout=scheduled
        )
    connection.set_schema_to_public()
    html = cara.get(f"/portal/workouts/{log.pk}/").content.decode()
    squat = f"i{training_a.squat_item.pk}"
    form = _form_values(html, squat)
    assert form["load"] == "100"  # as last time
    response = cara.post(
        f"/portal/workouts/{log.pk}/sets/", {**form, "reps": "5", "load": "105"}, **HTMX
    )
    assert 'data-testid="workout-pr"' in response.content.decode()
    assert "New heaviest" in response.content.decode()


def test_bad_input_comes_back_in_the_block(cara, training_a: Training, scheduled):
    with tenant_context(training_a.crm.gym):
        log, _ = services.workout_start(
            actor=training_a.crm.cara_user, client=training_a.crm.cara, scheduled_workout=scheduled
        )
    connection.set_schema_to_public()
    html = cara.get(f"/portal/workouts/{log.pk}/").content.decode()
    form = _form_values(html, f"i{training_a.squat_item.pk}")
    response = cara.post(f"/portal/workouts/{log.pk}/sets/", {**form, "reps": ""}, **HTMX)
    assert response.status_code == 200  # htmx swaps only successful answers
    assert "Enter the reps you did." in response.content.decode()


def test_clients_reach_only_their_own_logs(client_a, training_a: Training, scheduled):
    crm = training_a.crm
    with tenant_context(crm.gym):
        log, _ = services.workout_start(actor=crm.owner, client=crm.ann)
        from tests.conftest import make_user

        other = make_user("client", "other@alpha.example")
    connection.set_schema_to_public()
    client_a.force_login(other)
    assert client_a.get(f"/portal/workouts/{log.pk}/").status_code == 404
    assert client_a.post(f"/portal/workouts/{log.pk}/complete/").status_code == 404
    assert (
        client_a.post("/portal/workouts/start/", {"scheduled_workout": scheduled.pk}).status_code
        == 404
    )


def test_staff_get_the_clients_only_page(client_a, training_a: Training):
    client_a.force_login(training_a.crm.tom.user)
    assert client_a.get("/portal/workouts/").status_code == 403


def test_logging_page_takes_a_fixed_number_of_queries(cara, training_a: Training, scheduled):
    crm = training_a.crm
    with tenant_context(crm.gym):
        log, _ = services.workout_start(
            actor=crm.cara_user, client=crm.cara, scheduled_workout=scheduled
        )
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as few:
        assert cara.get(f"/portal/workouts/{log.pk}/").status_code == 200
    with tenant_context(crm.gym):
        for _ in range(4):
            services.set_log_create(
                actor=crm.cara_user,
                log=log,
                exercise=training_a.squat,
                plan_item=training_a.squat_item,
                reps=5,
            )
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as many:
        assert cara.get(f"/portal/workouts/{log.pk}/").status_code == 200
    assert len(many) == len(few)


# --- Staff ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("tom", 200), ("tina", 404), ("desk", 403)]
)
def test_progress_page_by_role(client_a, training_a: Training, role, status):
    client_a.force_login(training_a.crm.user(role))
    response = client_a.get(f"/workouts/clients/{training_a.crm.cara.pk}/")
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert 'data-testid="progress-adherence"' in body
        assert "nothing scheduled" in body


def test_progress_page_queries_do_not_grow(client_a, training_a: Training):
    crm = training_a.crm
    client_a.force_login(crm.tom.user)
    url = f"/workouts/clients/{crm.cara.pk}/"

    def log_days(days: range) -> None:
        with tenant_context(crm.gym):
            for day in days:
                log, _ = services.workout_start(
                    actor=crm.owner,
                    client=crm.cara,
                    performed_on=selectors.gym_today() - timedelta(days=day),
                )
                for exercise in (training_a.squat, training_a.bench, training_a.curl):
                    services.set_log_create(
                        actor=crm.owner, log=log, exercise=exercise, reps=5, load=50
                    )
                services.workout_complete(actor=crm.owner, log=log)
        connection.set_schema_to_public()

    log_days(range(1))
    with CaptureQueriesContext(connection) as few:
        client_a.get(url)
    log_days(range(1, 7))
    with CaptureQueriesContext(connection) as many:
        response = client_a.get(url)
    body = response.content.decode()
    assert "WT Curl" in body
    assert 'id="workouts-volume-data"' in body  # the chart's data (Chart.js is vendored)
    assert "<script>" not in body
    assert len(many) == len(few)


def test_trainer_sets_the_weekly_target(client_a, training_a: Training):
    crm = training_a.crm
    client_a.force_login(crm.tom.user)
    response = client_a.post(f"/workouts/clients/{crm.cara.pk}/target/", {"workouts_per_week": "4"})
    assert response.status_code == 302
    assert "target 4 a week" in client_a.get(response["Location"]).content.decode()
    client_a.force_login(crm.tina.user)
    assert (
        client_a.post(
            f"/workouts/clients/{crm.cara.pk}/target/", {"workouts_per_week": "2"}
        ).status_code
        == 404
    )


def test_needs_attention_on_the_trainers_home(client_a, training_a: Training):
    crm = training_a.crm
    with tenant_context(crm.gym):
        today = selectors.gym_today()
        for days in range(10):  # 90 days: 10 of 12 done; 30 days: 0 of 2
            schedule(crm.cara, today - timedelta(days=35 + days), "completed")
        for days in range(2):
            schedule(crm.cara, today - timedelta(days=days))
    connection.set_schema_to_public()
    client_a.force_login(crm.tom.user)
    body = client_a.get("/").content.decode()
    assert 'data-testid="needs-attention"' in body
    assert f"/workouts/clients/{crm.cara.pk}/" in body
    client_a.force_login(crm.tina.user)
    body = client_a.get("/").content.decode()
    assert "Everyone is on track." in body


def test_gym_b_pages_refuse_gym_a_ids(training_a: Training, training_b: Training):
    with tenant_context(training_a.crm.gym):
        log, _ = services.workout_start(actor=training_a.crm.owner, client=training_a.crm.cara)
    connection.set_schema_to_public()
    bravo = GymClient(BRAVO.subdomain)
    bravo.force_login(training_b.crm.cara_user)
    assert bravo.get(f"/portal/workouts/{log.pk}/").status_code == 404
    bravo.force_login(training_b.crm.owner)
    # Gym B's owner sees gym B's Cara (another person with the same id maybe): never A's log.
    response = bravo.get(f"/workouts/clients/{training_a.crm.ann.pk}/")
    assert b"alpha.example" not in response.content
