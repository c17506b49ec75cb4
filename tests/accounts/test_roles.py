from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.accounts.services import user_change_role
from apps.audit.models import AuditEvent
from tests.conftest import make_user


def test_owner_changes_a_role_and_it_is_audited(in_gym_a, owner_a):
    trainer = make_user(Role.TRAINER, "t@alpha.example")
    user_change_role(actor=owner_a, user=trainer, role=Role.MANAGER)
    trainer.refresh_from_db()
    assert trainer.role == Role.MANAGER
    assert trainer.is_staff
    event = AuditEvent.objects.get(action="user.role_changed", object_id=str(trainer.pk))
    assert event.changes == {"role": {"before": "trainer", "after": "manager"}}
    assert event.actor_email == owner_a.email


def test_nobody_changes_their_own_role(in_gym_a, owner_a):
    manager = make_user(Role.MANAGER, "m@alpha.example")
    with pytest.raises(PermissionDenied):
        user_change_role(actor=manager, user=manager, role=Role.OWNER)
    with pytest.raises(PermissionDenied):
        user_change_role(actor=owner_a, user=owner_a, role=Role.CLIENT)
    manager.refresh_from_db()
    assert manager.role == Role.MANAGER


@pytest.mark.parametrize("role", [Role.MANAGER, Role.TRAINER, Role.FRONT_DESK, Role.CLIENT])
def test_only_owners_change_roles(in_gym_a, role):
    actor = make_user(role, f"{role}@alpha.example")
    target = make_user(Role.CLIENT, "c@alpha.example")
    with pytest.raises(PermissionDenied):
        user_change_role(actor=actor, user=target, role=Role.TRAINER)
    target.refresh_from_db()
    assert target.role == Role.CLIENT


def test_change_role_through_the_api(api_client_a, gym_a, owner_a):
    with tenant_context(gym_a):
        client_user = make_user(Role.CLIENT, "c2@alpha.example")
    api_client_a.force_authenticate(owner_a)
    response = api_client_a.post(
        f"/api/v1/users/{client_user.pk}/change_role/", {"role": "trainer"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "trainer"
    bad = api_client_a.post(
        f"/api/v1/users/{client_user.pk}/change_role/", {"role": "emperor"}, format="json"
    )
    assert bad.status_code == 400
    assert "role" in bad.json()["errors"]


def test_a_manager_cannot_change_roles_through_the_api(api_client_a, gym_a):
    with tenant_context(gym_a):
        manager = make_user(Role.MANAGER, "m3@alpha.example")
        target = make_user(Role.CLIENT, "c3@alpha.example")
    api_client_a.force_authenticate(manager)
    response = api_client_a.post(
        f"/api/v1/users/{target.pk}/change_role/", {"role": "manager"}, format="json"
    )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_clients_see_only_themselves(api_client_a, gym_a, owner_a):
    with tenant_context(gym_a):
        me = make_user(Role.CLIENT, "me@alpha.example")
        make_user(Role.CLIENT, "other@alpha.example")
    api_client_a.force_authenticate(me)
    response = api_client_a.get("/api/v1/users/")
    assert [row["email"] for row in response.json()["results"]] == ["me@alpha.example"]


def test_team_page_lets_owners_change_roles(client_a, gym_a, owner_a):
    with tenant_context(gym_a):
        trainer = make_user(Role.TRAINER, "t4@alpha.example")
    client_a.force_login(owner_a)
    assert client_a.get("/accounts/team/").status_code == 200
    response = client_a.post(f"/accounts/team/{trainer.pk}/role/", {"role": "front_desk"})
    assert response.status_code == 302
    with tenant_context(gym_a):
        trainer.refresh_from_db()
    assert trainer.role == Role.FRONT_DESK


def test_team_page_is_not_for_trainers(client_a, gym_a):
    with tenant_context(gym_a):
        trainer = make_user(Role.TRAINER, "t5@alpha.example")
    client_a.force_login(trainer)
    assert client_a.get("/accounts/team/").status_code == 403
