"""Data-rights pages: who may export or erase whose data, on which gym's host."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from apps.privacy.models import ErasureRecord
from tests.conftest import ALPHA, activate_totp, login, make_user, totp_code


def logged_in(client: Client, gym, user: User) -> Client:  # type: ignore[no-untyped-def]
    # In the gym's schema: that is where its sessions are stored.
    with tenant_context(gym):
        client.force_login(user)
    return client


def zip_names(response) -> set[str]:  # type: ignore[no-untyped-def]
    return set(zipfile.ZipFile(io.BytesIO(response.content)).namelist())


def zip_text(response) -> str:  # type: ignore[no-untyped-def]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return " ".join(archive.read(name).decode() for name in archive.namelist())


@pytest.fixture
def jane(gym_a) -> User:  # type: ignore[no-untyped-def]
    with tenant_context(gym_a):
        return make_user(Role.CLIENT, "jane@alpha.example", first_name="Janeth", phone="+1555")


@pytest.fixture
def manager_with_mfa(gym_a) -> User:  # type: ignore[no-untyped-def]
    with tenant_context(gym_a):
        manager = make_user(Role.MANAGER, "manager@alpha.example")
        activate_totp(manager)
        return manager


def test_a_client_downloads_their_own_data(client_a, gym_a, jane):
    logged_in(client_a, gym_a, jane)
    page = client_a.get("/privacy/")
    assert page.status_code == 200
    assert "Download my data" in page.content.decode()

    response = client_a.post("/privacy/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert "no-store" in response["Cache-Control"]
    assert "accounts.user.json" in zip_names(response)
    text = zip_text(response)
    assert "jane@alpha.example" in text
    assert ALPHA.owner_email not in text


def test_my_data_needs_a_login(client_a):
    assert client_a.get("/privacy/").status_code == 302
    response = client_a.post("/privacy/export/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", [Role.TRAINER, Role.FRONT_DESK, Role.CLIENT])
def test_only_owners_and_managers_act_for_others(client_a, gym_a, jane, role):
    with tenant_context(gym_a):
        staff = make_user(role, f"{role}@alpha.example")
        activate_totp(staff)
    logged_in(client_a, gym_a, staff)
    assert client_a.get(f"/privacy/users/{jane.pk}/export/").status_code == 403
    assert client_a.post(f"/privacy/users/{jane.pk}/erase/", {"confirm": "on"}).status_code == 403
    with tenant_context(gym_a):
        assert User.objects.get(pk=jane.pk).email == "jane@alpha.example"


def test_a_manager_without_mfa_is_sent_to_set_it_up(client_a, gym_a, jane):
    with tenant_context(gym_a):
        manager = make_user(Role.MANAGER, "nomfa@alpha.example")
    logged_in(client_a, gym_a, manager)
    for response in (
        client_a.get(f"/privacy/users/{jane.pk}/export/"),
        client_a.post(f"/privacy/users/{jane.pk}/erase/", {"confirm": "on"}),
        client_a.post("/privacy/export/"),
    ):
        assert response.status_code == 302
        assert "/accounts/2fa/totp/activate" in response["Location"]
    with tenant_context(gym_a):
        assert User.objects.get(pk=jane.pk).is_active


def test_a_manager_logged_in_with_totp_exports_a_clients_data(client_a, gym_a, jane):
    with tenant_context(gym_a):
        manager = make_user(Role.MANAGER, "totp@alpha.example")
        secret = activate_totp(manager)
    login(client_a, manager.email)
    response = client_a.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert response.status_code == 302
    assert "_auth_user_id" in client_a.session

    response = client_a.get(f"/privacy/users/{jane.pk}/export/")
    assert response.status_code == 200
    assert "jane@alpha.example" in zip_text(response)
    assert manager.email not in zip_text(response)


def test_a_manager_erases_a_client_after_confirming(client_a, gym_a, jane, manager_with_mfa):
    logged_in(client_a, gym_a, manager_with_mfa)
    page = client_a.get(f"/privacy/users/{jane.pk}/erase/")
    assert page.status_code == 200
    assert "jane@alpha.example" in page.content.decode()

    # Without the confirmation box: an error and no change.
    response = client_a.post(f"/privacy/users/{jane.pk}/erase/", {"reason": "asked"})
    assert response.status_code == 400
    with tenant_context(gym_a):
        assert User.objects.get(pk=jane.pk).is_active

    response = client_a.post(
        f"/privacy/users/{jane.pk}/erase/", {"reason": "Asked at the desk", "confirm": "on"}
    )
    assert response.status_code == 302
    with tenant_context(gym_a):
        erased = User.objects.get(pk=jane.pk)
        assert erased.email == f"erased-{jane.pk}@invalid.example"
        assert not erased.is_active
        record = ErasureRecord.objects.get(user=erased)
        assert record.erased_by == manager_with_mfa
        assert record.reason == "Asked at the desk"


def test_a_manager_cannot_touch_an_owner(client_a, gym_a, owner_a, manager_with_mfa):
    logged_in(client_a, gym_a, manager_with_mfa)
    assert (
        client_a.post(f"/privacy/users/{owner_a.pk}/erase/", {"confirm": "on"}).status_code == 403
    )
    assert client_a.get(f"/privacy/users/{owner_a.pk}/export/").status_code == 403
    with tenant_context(gym_a):
        assert User.objects.get(pk=owner_a.pk).is_active


def test_nobody_erases_themselves_here(client_a, gym_a, owner_a, manager_with_mfa):
    with tenant_context(gym_a):
        activate_totp(owner_a)
    for user in (owner_a, manager_with_mfa):
        logged_in(client_a, gym_a, user)
        response = client_a.post(f"/privacy/users/{user.pk}/erase/", {"confirm": "on"})
        assert response.status_code == 403
        with tenant_context(gym_a):
            assert User.objects.get(pk=user.pk).is_active


def test_an_owner_may_erase_a_manager(client_a, gym_a, owner_a, manager_with_mfa):
    with tenant_context(gym_a):
        activate_totp(owner_a)
    logged_in(client_a, gym_a, owner_a)
    response = client_a.post(f"/privacy/users/{manager_with_mfa.pk}/erase/", {"confirm": "on"})
    assert response.status_code == 302
    with tenant_context(gym_a):
        assert not User.objects.get(pk=manager_with_mfa.pk).is_active


def test_ids_of_another_gym_are_not_found(client_a, gym_a, gym_b, manager_with_mfa):
    with tenant_context(gym_a):
        ids_in_a = set(User.objects.values_list("pk", flat=True))
    with tenant_context(gym_b):
        # Schemas number their rows independently: take an id that gym A does not have.
        stranger = make_user(Role.CLIENT, "stranger@bravo.example")
        while stranger.pk in ids_in_a:
            stranger = make_user(Role.CLIENT, f"stranger{stranger.pk}@bravo.example")
    logged_in(client_a, gym_a, manager_with_mfa)
    assert client_a.get(f"/privacy/users/{stranger.pk}/export/").status_code == 404
    response = client_a.post(f"/privacy/users/{stranger.pk}/erase/", {"confirm": "on"})
    assert response.status_code == 404
    with tenant_context(gym_b):
        assert User.objects.get(pk=stranger.pk).is_active
