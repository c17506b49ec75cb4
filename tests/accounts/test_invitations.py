from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import Invitation, Role, User
from apps.accounts.services import invitation_accept, invitation_create
from tests.conftest import ALPHA, BRAVO, PASSWORD, make_user

LINK = re.compile(r"http://(?P<host>[a-z.-]+)(?P<path>/accounts/invitation/[^/\s]+/)")


def sent_link() -> re.Match:
    assert len(mail.outbox) == 1
    match = LINK.search(mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return match


def test_invite_by_web_then_accept_on_the_gyms_host(
    client_a, gym_a, owner_a, django_capture_on_commit_callbacks
):
    client_a.force_login(owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(
            "/accounts/invitations/", {"email": "New.Trainer@alpha.example", "role": "trainer"}
        )
    assert response.status_code == 302
    link = sent_link()
    assert link["host"] == ALPHA.host  # the email points at the gym's own host
    assert "Alpha Fitness" in mail.outbox[0].subject

    from django.test import Client

    newcomer = Client(HTTP_HOST=ALPHA.host)
    page = newcomer.get(link["path"])
    assert page.status_code == 200
    response = newcomer.post(
        link["path"],
        {"first_name": "Nina", "last_name": "New", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert newcomer.get("/").status_code == 200
    with tenant_context(gym_a):
        user = User.objects.get(email="new.trainer@alpha.example")
        assert user.role == Role.TRAINER
        assert user.first_name == "Nina"

    # It works once.
    again = Client(HTTP_HOST=ALPHA.host)
    assert again.get(link["path"]).status_code == 404
    response = again.post(
        link["path"],
        {"first_name": "X", "last_name": "Y", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 404


def test_invitation_link_means_nothing_on_another_gym(
    client_a, gym_a, gym_b, owner_a, django_capture_on_commit_callbacks
):
    client_a.force_login(owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post("/accounts/invitations/", {"email": "x@alpha.example", "role": "client"})
    link = sent_link()
    from django.test import Client

    intruder = Client(HTTP_HOST=BRAVO.host)
    assert intruder.get(link["path"]).status_code == 404
    intruder.post(
        link["path"],
        {"first_name": "X", "last_name": "Y", "password1": PASSWORD, "password2": PASSWORD},
    )
    with tenant_context(gym_b):
        assert not User.objects.filter(email="x@alpha.example").exists()


def test_expired_invitation_is_refused(in_gym_a, owner_a):
    _, token = invitation_create(actor=owner_a, email="late@alpha.example", role=Role.CLIENT)
    Invitation.objects.filter(email="late@alpha.example").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(ValidationError) as excinfo:
        invitation_accept(token=token, password=PASSWORD)
    assert "token" in excinfo.value.message_dict
    assert not User.objects.filter(email="late@alpha.example").exists()


def test_tampered_token_and_weak_password_are_refused(in_gym_a, owner_a):
    _, token = invitation_create(actor=owner_a, email="weak@alpha.example", role=Role.CLIENT)
    with pytest.raises(ValidationError) as excinfo:
        invitation_accept(token=token[:-2] + "xx", password=PASSWORD)
    assert "token" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        invitation_accept(token=token, password="short")
    assert "password" in excinfo.value.message_dict
    assert not User.objects.filter(email="weak@alpha.example").exists()
    # The invitation is still usable after a failed attempt.
    assert invitation_accept(token=token, password=PASSWORD).role == Role.CLIENT


def test_who_may_invite_whom(in_gym_a, owner_a):
    manager = make_user(Role.MANAGER, "mgr@alpha.example")
    trainer = make_user(Role.TRAINER, "tr@alpha.example")
    with pytest.raises(PermissionDenied):
        invitation_create(actor=trainer, email="a@alpha.example", role=Role.CLIENT)
    with pytest.raises(ValidationError) as excinfo:
        invitation_create(actor=manager, email="b@alpha.example", role=Role.MANAGER)
    assert "role" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        invitation_create(actor=owner_a, email="c@alpha.example", role=Role.OWNER)
    invitation_create(actor=manager, email="d@alpha.example", role=Role.TRAINER)
    with pytest.raises(ValidationError) as excinfo:
        invitation_create(actor=owner_a, email="d@alpha.example", role=Role.TRAINER)
    assert "email" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        invitation_create(actor=owner_a, email=owner_a.email, role=Role.TRAINER)
    assert "email" in excinfo.value.message_dict


def test_invitation_api(api_client_a, gym_a, owner_a, django_capture_on_commit_callbacks):
    api_client_a.force_authenticate(owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_a.post(
            "/api/v1/invitations/", {"email": "api@alpha.example", "role": "client"}, format="json"
        )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"
    assert len(mail.outbox) == 1
    bad = api_client_a.post(
        "/api/v1/invitations/", {"email": "not-an-email", "role": "owner"}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"email", "role"}
    pk = response.json()["id"]
    revoked = api_client_a.post(f"/api/v1/invitations/{pk}/revoke/")
    assert revoked.json()["status"] == "revoked"
    assert api_client_a.get("/api/v1/invitations/").json()["count"] == 1


def test_invitation_pages_are_for_management(client_a, gym_a):
    with tenant_context(gym_a):
        trainer = make_user(Role.TRAINER, "tt@alpha.example")
    client_a.force_login(trainer)
    assert client_a.get("/accounts/invitations/").status_code == 403
    assert client_a.post("/accounts/invitations/", {"email": "z@a.example"}).status_code == 403
