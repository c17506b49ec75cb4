"""The training models in the gym's admin: reads through the selectors, writes through the
services (audit events prove it); the shipped library is read-only."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.training.models import Exercise, WorkoutPlan
from tests.conftest import GymClient, activate_totp
from tests.training.conftest import build_template, next_monday

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(crm_a) -> GymClient:  # type: ignore[no-untyped-def]
    with tenant_context(crm_a.gym):
        activate_totp(crm_a.manager)
    client = GymClient(crm_a.gym.subdomain)
    client.force_login(crm_a.manager)
    return client


def audited(crm, action: str) -> bool:  # type: ignore[no-untyped-def]
    with tenant_context(crm.gym):
        return AuditEvent.objects.filter(action=action).exists()


def test_lists_open_with_filters(admin, crm_a, lib_a):
    from apps.training import services

    with tenant_context(crm_a.gym):
        template = build_template(crm_a.owner, lib_a)
        services.plan_assign(
            template=template, client=crm_a.ann, start_date=next_monday(), by=crm_a.owner
        )
    for path in (
        "/admin/training/exercise/?q=qx&is_library__exact=1",
        "/admin/training/exercise/?category__exact=cardio",
        "/admin/training/workoutplan/?is_template__exact=0",
        "/admin/training/scheduledworkout/?status__exact=scheduled",
        f"/admin/training/workoutplan/{template.pk}/change/",
    ):
        assert admin.get(path).status_code == 200, path


def test_library_exercises_are_read_only_and_own_ones_go_through_services(admin, crm_a, lib_a):
    page = admin.get(f"/admin/training/exercise/{lib_a.squat.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    response = admin.post(
        "/admin/training/exercise/add/",
        {
            "name": "Qx Admin Lift",
            "aliases": "",
            "category": "strength",
            "primary_muscles": "chest",
            "secondary_muscles": "",
            "equipment": "barbell",
            "mechanics": "compound",
            "tracking": "weight_reps",
            "instructions": "",
            "cues": "",
            "variation_of": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert audited(crm_a, "exercise.created")
    with tenant_context(crm_a.gym):
        own = Exercise.objects.get(name="Qx Admin Lift")
        assert own.created_by == crm_a.manager
        assert own.slug.startswith("gym-")


def test_plan_actions_copy_and_archive(admin, crm_a, lib_a):
    with tenant_context(crm_a.gym):
        template = build_template(crm_a.owner, lib_a)
    response = admin.post(
        "/admin/training/workoutplan/",
        {"action": "copy_plans", "_selected_action": [template.pk]},
    )
    assert response.status_code == 302
    assert audited(crm_a, "plan.copied")
    admin.post(
        "/admin/training/workoutplan/",
        {"action": "archive_plans", "_selected_action": [template.pk]},
    )
    with tenant_context(crm_a.gym):
        assert WorkoutPlan.objects.get(pk=template.pk).status == "archived"
        assert WorkoutPlan.objects.filter(source=template).count() == 1


def test_trainers_are_not_admin_users(crm_a, lib_a):
    client = GymClient(crm_a.gym.subdomain)
    client.force_login(crm_a.tina.user)
    response = client.get("/admin/training/exercise/")
    assert response.status_code == 302
