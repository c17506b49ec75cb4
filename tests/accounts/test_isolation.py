"""Users live in their gym: credentials, sessions and admin access never cross to another gym."""

from __future__ import annotations

from django.test import Client

from tests.conftest import ALPHA, BRAVO, PASSWORD, activate_totp, login


def test_owner_logs_in_on_their_own_gym(client_a):
    response = login(client_a, ALPHA.owner_email)
    assert response.status_code == 302
    assert client_a.get("/").status_code == 200


def test_user_of_gym_a_cannot_log_in_on_gym_b(client_b):
    response = login(client_b, ALPHA.owner_email, PASSWORD)
    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client_b.session
    assert client_b.get("/").status_code == 302  # still sent to the login page


def test_session_cookie_of_gym_a_means_nothing_on_gym_b(client_a):
    login(client_a, ALPHA.owner_email)
    cookie = client_a.cookies["sessionid"].value
    intruder = Client(HTTP_HOST=BRAVO.host)
    intruder.cookies["sessionid"] = cookie
    response = intruder.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    response = intruder.get("/admin/")
    assert response.status_code == 302


def test_gym_admin_is_for_that_gyms_staff_only(client_a, client_b, gym_a, owner_a):
    from django_tenants.utils import tenant_context

    with tenant_context(gym_a):
        activate_totp(owner_a)  # owners reach the back office only with two-factor auth
    client_a.force_login(owner_a)
    assert client_a.get("/admin/").status_code == 200
    # Gym models that live in public are not on a gym's admin site.
    index = client_a.get("/admin/").content.decode()
    assert "/admin/tenants/" not in index
    assert "django_celery_beat" not in index
    response = client_b.post("/admin/login/", {"username": ALPHA.owner_email, "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client_b.session


def test_platform_admin_manages_gyms_on_the_public_host(public_client, gym_a):
    from django_tenants.utils import schema_context

    from apps.accounts.models import User

    with schema_context("public"):
        User.objects.create_superuser(email="ops@platform.example", password=PASSWORD)
    response = public_client.post(
        "/admin/login/?next=/admin/",
        {"username": "ops@platform.example", "password": PASSWORD},
    )
    assert response.status_code == 302
    listing = public_client.get("/admin/tenants/gym/")
    assert listing.status_code == 200
    assert "Alpha Fitness" in listing.content.decode()
    assert "gym_template" not in listing.content.decode()
    # A gym owner is not a platform operator.
    stranger = Client(HTTP_HOST="localhost")
    response = stranger.post("/admin/login/", {"username": ALPHA.owner_email, "password": PASSWORD})
    assert "_auth_user_id" not in stranger.session


def test_unknown_gym_subdomain_is_404(db):
    assert Client(HTTP_HOST="nosuchgym.localhost").get("/").status_code == 404
