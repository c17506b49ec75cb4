"""Password reset and email verification: links point at the gym's own host and work once."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from tests.conftest import ALPHA, BRAVO, PASSWORD, login, make_user

NEW_PASSWORD = "a brand new pass phrase"
RESET_LINK = re.compile(r"http://(?P<host>[a-z.-]+)(?P<path>/accounts/password/reset/key/\S+/)")


def request_reset(host: str, email: str) -> re.Match:
    mail.outbox.clear()
    response = Client(HTTP_HOST=host).post("/accounts/password/reset/", {"email": email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    match = RESET_LINK.search(mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return match


def use_reset_link(host: str, path: str, password: str) -> Client:
    client = Client(HTTP_HOST=host)
    response = client.get(path)  # allauth moves the key into the session, then redirects
    if response.status_code == 302:
        path = response["Location"]
    client.post(path, {"password1": password, "password2": password})
    return client


def test_reset_link_points_at_the_gym_and_works_once(gym_a):
    with tenant_context(gym_a):
        make_user(Role.TRAINER, "reset@alpha.example")
    link = request_reset(ALPHA.host, "reset@alpha.example")
    assert link["host"] == ALPHA.host

    use_reset_link(ALPHA.host, link["path"], NEW_PASSWORD)
    assert (
        login(Client(HTTP_HOST=ALPHA.host), "reset@alpha.example", NEW_PASSWORD).status_code == 302
    )

    # Reused link: refused, and the password stays the one just set.
    use_reset_link(ALPHA.host, link["path"], "yet another pass phrase")
    with tenant_context(gym_a):
        assert User.objects.get(email="reset@alpha.example").check_password(NEW_PASSWORD)


def test_reset_link_of_gym_a_is_useless_on_gym_b(gym_a, gym_b):
    with tenant_context(gym_a):
        make_user(Role.TRAINER, "both@example.com")
    with tenant_context(gym_b):
        make_user(Role.TRAINER, "both@example.com")  # same person, separate account in B
    link = request_reset(ALPHA.host, "both@example.com")
    use_reset_link(BRAVO.host, link["path"], NEW_PASSWORD)
    with tenant_context(gym_b):
        assert User.objects.get(email="both@example.com").check_password(PASSWORD)
    with tenant_context(gym_a):
        assert User.objects.get(email="both@example.com").check_password(PASSWORD)


def test_tampered_reset_key_is_refused(gym_a):
    with tenant_context(gym_a):
        make_user(Role.TRAINER, "tamper@alpha.example")
    link = request_reset(ALPHA.host, "tamper@alpha.example")
    use_reset_link(ALPHA.host, link["path"].replace("-", "-x", 1), NEW_PASSWORD)
    with tenant_context(gym_a):
        assert User.objects.get(email="tamper@alpha.example").check_password(PASSWORD)


def test_unknown_email_gets_no_mail_and_no_hint(gym_a):
    mail.outbox.clear()
    response = Client(HTTP_HOST=ALPHA.host).post(
        "/accounts/password/reset/", {"email": ALPHA.owner_email.replace("owner", "nobody")}
    )
    assert response.status_code == 302  # the same answer as for a known address
    assert all("password/reset/key" not in message.body for message in mail.outbox)


def test_verification_email_links_to_the_gym(client_a, gym_a):
    with tenant_context(gym_a):
        user = make_user(Role.TRAINER, "verify@alpha.example")
    client_a.force_login(user)
    mail.outbox.clear()
    response = client_a.post(
        "/accounts/email/", {"action_add": "", "email": "second@alpha.example"}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert f"http://{ALPHA.host}/accounts/confirm-email/" in mail.outbox[0].body


def test_password_change_with_a_weak_password_changes_nothing(client_a, gym_a):
    with tenant_context(gym_a):
        user = make_user(Role.TRAINER, "change@alpha.example")
    client_a.force_login(user)
    response = client_a.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "short", "password2": "short"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    with tenant_context(gym_a):
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
