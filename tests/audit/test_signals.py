"""Authentication events reach the audit log of the gym they happen in, through the real pages."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.audit.models import AuditEvent
from tests.conftest import ALPHA, PASSWORD, login, make_user, totp_code

AGENT = "AuditTest/1.0 (pytest)"


@pytest.fixture
def browser_a(db) -> Client:
    return Client(HTTP_HOST=ALPHA.host, HTTP_USER_AGENT=AGENT)


@pytest.fixture
def trainer_a(gym_a):  # type: ignore[no-untyped-def]
    with tenant_context(gym_a):
        return make_user(Role.TRAINER, "trainer@alpha.example")


def events(gym, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with tenant_context(gym):
        return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_login_and_logout_are_recorded_with_ip_and_user_agent(browser_a, gym_a, trainer_a):
    response = login(browser_a, trainer_a.email)
    assert response.status_code == 302
    [event] = events(gym_a, "auth.login")
    assert event.actor == trainer_a
    assert (event.actor_email, event.actor_role) == (trainer_a.email, Role.TRAINER)
    assert (event.object_type, event.object_id) == ("accounts.user", str(trainer_a.pk))
    assert event.ip == "127.0.0.1"
    assert event.user_agent == AGENT
    assert event.request_id == response["X-Request-ID"]

    browser_a.post("/accounts/logout/")
    [event] = events(gym_a, "auth.logout")
    assert event.actor == trainer_a
    assert event.user_agent == AGENT


def test_failed_login_records_the_attempted_email_not_the_password(browser_a, gym_a, trainer_a):
    response = login(browser_a, "Trainer@Alpha.example", "wrong password 123")
    assert response.status_code == 200
    [event] = events(gym_a, "auth.login_failed")
    assert event.actor is None
    assert event.actor_email == "trainer@alpha.example"
    assert (event.object_type, event.object_id) == ("accounts.user", str(trainer_a.pk))
    assert (event.ip, event.user_agent) == ("127.0.0.1", AGENT)
    with tenant_context(gym_a):
        stored = AuditEvent.objects.filter(pk=event.pk).values_list("changes", "user_agent")
        assert "wrong password" not in str(list(stored))

    login(browser_a, "nobody@alpha.example", "whatever it is")
    event = events(gym_a, "auth.login_failed")[-1]
    assert (event.actor_email, event.object_id) == ("nobody@alpha.example", "")


def test_lockout_is_recorded(browser_a, gym_a, trainer_a):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(browser_a, trainer_a.email, "wrong password 123")
    [event] = events(gym_a, "auth.lockout")
    assert event.actor_email == trainer_a.email
    assert event.object_id == str(trainer_a.pk)
    assert event.ip == "127.0.0.1"
    assert len(events(gym_a, "auth.login_failed")) == settings.AXES_FAILURE_LIMIT


def test_password_change_and_reset_are_recorded(browser_a, gym_a, trainer_a):
    login(browser_a, trainer_a.email)
    new_password = "another horse battery staple"
    response = browser_a.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302, response.content
    [event] = events(gym_a, "auth.password_changed")
    assert event.actor == trainer_a
    assert event.changes == {}

    stranger = Client(HTTP_HOST=ALPHA.host, HTTP_USER_AGENT=AGENT)
    stranger.post("/accounts/password/reset/", {"email": trainer_a.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body
    form = stranger.get(link.group(1), follow=True)
    reset_password = "a third horse battery staple"
    response = stranger.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link.group(1),
        {"password1": reset_password, "password2": reset_password},
    )
    assert response.status_code == 302, response.content
    [event] = events(gym_a, "auth.password_reset")
    assert event.actor == trainer_a
    assert event.user_agent == AGENT


def test_mfa_activation_and_deactivation_are_recorded(
    browser_a, gym_a, trainer_a, django_capture_on_commit_callbacks
):
    login(browser_a, trainer_a.email)
    # allauth asks for the password again before security settings change.
    response = browser_a.get("/accounts/2fa/totp/activate/")
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/reauthenticate/")
        browser_a.post(response["Location"], {"password": PASSWORD})
    assert browser_a.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = browser_a.session["mfa.totp.secret"]
    # allauth sends its signal once the activation commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = browser_a.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert response.status_code == 302, response.content
    activated = events(gym_a, "auth.mfa_activated")
    assert {event.changes["type"]["after"] for event in activated} >= {"totp"}
    assert all(event.actor == trainer_a for event in activated)
    # Neither the secret nor the recovery codes reach the log.
    assert all(secret not in str(event.changes) for event in activated)

    with django_capture_on_commit_callbacks(execute=True):
        response = browser_a.post("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 302, response.content
    deactivated = events(gym_a, "auth.mfa_deactivated")
    assert "totp" in {event.changes["type"]["after"] for event in deactivated}


def test_events_stay_in_their_gym(browser_a, client_b, gym_a, gym_b, trainer_a):
    login(browser_a, trainer_a.email)
    login(client_b, trainer_a.email)  # no such account on gym B
    assert [e.actor_email for e in events(gym_a, "auth.login")] == [trainer_a.email]
    assert events(gym_a, "auth.login_failed") == []
    assert [e.actor_email for e in events(gym_b, "auth.login_failed")] == [trainer_a.email]
    assert events(gym_b, "auth.login") == []
