"""The client portal: who reaches it, a client editing their own profile, gym isolation, and the
installable shell (manifest, service worker, offline page)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from django.contrib.staticfiles import finders
from django.test import Client as BrowserClient
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.audit.models import AuditEvent
from apps.crm import services
from apps.crm.models import Client, ClientStatus
from apps.portal.forms import ClientProfileForm
from tests.conftest import ALPHA, BRAVO, login, make_user

CLIENT_EMAIL = "carla@alpha.example"


@pytest.fixture
def carla(in_gym_a, owner_a):  # type: ignore[no-untyped-def]
    """A client of gym A with a portal login, a primary trainer and some health data."""
    coach = services.trainer_create(
        actor=owner_a,
        email="casey@alpha.example",
        first_name="Casey",
        last_name="Coach",
        specialties=["strength", "mobility"],
    )
    user = make_user(Role.CLIENT, CLIENT_EMAIL, first_name="Carla", last_name="Client")
    services.profile_ensure_for_role(user=user)
    client = services.client_update(
        actor=owner_a,
        client=Client.objects.get(user=user),
        phone="+44 7700 900555",
        goals="Run 5 km without stopping",
        health_notes="Old knee injury.",
        status=ClientStatus.TRIAL,
    )
    services.assignment_create(actor=owner_a, client=client, trainer=coach, is_primary=True)
    return SimpleNamespace(user=user, client=client, coach=coach)


def _profile_post(client: Client, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "first_name": client.first_name,
        "last_name": client.last_name,
        "phone": client.phone,
        "emergency_contact_name": client.emergency_contact_name,
        "emergency_contact_phone": client.emergency_contact_phone,
        "goals": client.goals,
    }
    if client.notify_by_email:
        data["notify_by_email"] = "on"
    if client.notify_by_sms:
        data["notify_by_sms"] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- Who reaches the portal -----------------------------------------------------------------


def test_a_client_sees_their_home(carla, client_a, gym_a, django_assert_max_num_queries):
    client_a.force_login(carla.user)
    client_a.get("/portal/")  # the first request also records the login's session (allauth)
    with django_assert_max_num_queries(12):
        response = client_a.get("/portal/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hello, Carla" in body
    assert "Casey Coach" in body
    assert "strength, mobility" in body
    assert "Run 5 km without stopping" in body
    assert 'rel="manifest" href="/manifest.webmanifest"' in body
    assert "js/portal.js" in body
    assert 'data-service-worker="/sw.js"' in body
    # Personal data: never kept by a cache.
    assert "no-store" in response["Cache-Control"]
    # Health data stays out of the portal pages.
    assert "knee" not in body.lower()


def test_schedule_workouts_and_progress_pages_join_the_portal_nav(carla, client_a):
    client_a.force_login(carla.user)
    body = client_a.get("/portal/").content.decode()
    for url in ("/portal/schedule/", "/portal/workouts/", "/portal/progress/"):
        assert f'href="{url}"' in body


@pytest.mark.parametrize("role", [Role.TRAINER, Role.FRONT_DESK, Role.MANAGER, Role.OWNER])
@pytest.mark.parametrize("url", ["/portal/", "/portal/profile/"])
def test_staff_are_refused_with_a_way_to_the_dashboard(role, url, in_gym_a, client_a):
    staff = make_user(role, f"{role}-portal@alpha.example")
    client_a.force_login(staff)
    response = client_a.get(url)
    assert response.status_code == 403
    body = response.content.decode()
    assert "Go to the dashboard" in body
    assert 'class="button" href="/"' in body


@pytest.mark.parametrize("url", ["/portal/", "/portal/profile/"])
def test_anonymous_visitors_are_sent_to_log_in(url, client_a):
    response = client_a.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_a_client_without_a_record_gets_one(in_gym_a, client_a, gym_a):
    user = make_user(Role.CLIENT, "newbie@alpha.example", first_name="Nina")
    assert not Client.objects.filter(user=user).exists()
    client_a.force_login(user)
    response = client_a.get("/portal/")
    assert response.status_code == 200
    assert "Hello, Nina" in response.content.decode()
    with tenant_context(gym_a):
        assert Client.objects.get(user=user).email == "newbie@alpha.example"


# --- Editing one's own profile -------------------------------------------------------------


def test_the_form_offers_exactly_the_self_service_fields():
    assert set(ClientProfileForm.base_fields) == set(services.CLIENT_SELF_SERVICE_FIELDS)


def test_profile_page_shows_the_current_details(carla, client_a):
    client_a.force_login(carla.user)
    response = client_a.get("/portal/profile/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="+447700900555"' in body  # stored in E.164
    assert CLIENT_EMAIL in body
    assert 'name="health_notes"' not in body
    assert 'name="status"' not in body


def test_a_client_edits_their_details(carla, client_a, gym_a):
    client_a.force_login(carla.user)
    response = client_a.post(
        "/portal/profile/",
        _profile_post(
            carla.client,
            phone="+44 7700 900999",
            goals="Deadlift 100 kg",
            emergency_contact_name="Carl Client",
            emergency_contact_phone="07700 900111",
            notify_by_sms="on",
        ),
        follow=True,
    )
    assert response.redirect_chain == [("/portal/profile/", 302)]
    assert "Your profile has been saved." in response.content.decode()
    with tenant_context(gym_a):
        client = Client.objects.get(pk=carla.client.pk)
        assert client.phone == "+447700900999"
        assert client.emergency_contact_phone == "+447700900111"
        assert client.goals == "Deadlift 100 kg"
        assert client.emergency_contact_name == "Carl Client"
        assert client.notify_by_sms is True
        assert client.notify_by_email is True
        event = AuditEvent.objects.filter(action="client.updated", actor=carla.user).get()
        # Only what changed is recorded.
        assert set(event.changes) == {
            "phone",
            "goals",
            "emergency_contact_name",
            "emergency_contact_phone",
            "notify_by_sms",
        }


def test_unticking_a_notification_turns_it_off(carla, client_a, gym_a):
    client_a.force_login(carla.user)
    data = _profile_post(carla.client)
    data.pop("notify_by_email")
    assert client_a.post("/portal/profile/", data).status_code == 302
    with tenant_context(gym_a):
        assert Client.objects.get(pk=carla.client.pk).notify_by_email is False


def test_saving_without_changes_writes_nothing(carla, client_a, gym_a):
    client_a.force_login(carla.user)
    response = client_a.post("/portal/profile/", _profile_post(carla.client), follow=True)
    assert "Nothing to save" in response.content.decode()
    with tenant_context(gym_a):
        assert not AuditEvent.objects.filter(action="client.updated", actor=carla.user).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "call me maybe"}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"emergency_contact_phone": "+44 abc"}, "emergency_contact_phone"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "   "}, "first_name"),
    ],
)
def test_bad_input_is_named_next_to_its_field(carla, client_a, gym_a, overrides, field):
    client_a.force_login(carla.user)
    response = client_a.post("/portal/profile/", _profile_post(carla.client, **overrides))
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="{field}-error"' in body
    assert body.count('class="error"') == 1
    with tenant_context(gym_a):
        client = Client.objects.get(pk=carla.client.pk)
        assert client.first_name == "Carla"
        assert client.phone == "+447700900555"


def test_fields_a_client_may_not_change_are_ignored(carla, client_a, gym_a):
    client_a.force_login(carla.user)
    response = client_a.post(
        "/portal/profile/",
        _profile_post(
            carla.client,
            goals="New goal",
            health_notes="Nothing wrong with me",
            parq_answers='{"heart": false}',
            status=ClientStatus.ACTIVE,
            email="someone-else@example.com",
            tags="vip",
            user="1",
        ),
    )
    assert response.status_code == 302
    with tenant_context(gym_a):
        client = Client.objects.get(pk=carla.client.pk)
        assert client.goals == "New goal"
        assert client.health_notes == "Old knee injury."
        assert client.status == ClientStatus.TRIAL
        assert client.email == CLIENT_EMAIL
        assert client.tags == []
        assert client.parq_answers == {}
        assert client.user_id == carla.user.pk


def test_a_client_only_ever_edits_their_own_record(carla, client_a, gym_a, owner_a):
    with tenant_context(gym_a):
        other = services.client_create(actor=owner_a, first_name="Otto", phone="+44 7700 900000")
    client_a.force_login(carla.user)
    client_a.post("/portal/profile/", _profile_post(carla.client, phone="+44 7700 900777"))
    with tenant_context(gym_a):
        assert Client.objects.get(pk=other.pk).phone == "+447700900000"
        assert Client.objects.get(pk=carla.client.pk).phone == "+447700900777"


# --- Gyms are separate ---------------------------------------------------------------------


def test_a_session_of_gym_a_is_useless_on_gym_b(carla, client_a, gym_a, gym_b, owner_b):
    # The same person is also a client of gym B (a separate account there).
    with tenant_context(gym_b):
        user_b = make_user(Role.CLIENT, CLIENT_EMAIL, first_name="Carla")
        services.profile_ensure_for_role(user=user_b)
        record_b = services.client_update(
            actor=owner_b, client=Client.objects.get(user=user_b), phone="+49 30 901820"
        )
    response = login(client_a, CLIENT_EMAIL)
    assert response.status_code == 302
    assert client_a.get("/portal/").status_code == 200

    on_b = BrowserClient(HTTP_HOST=BRAVO.host)
    on_b.cookies["sessionid"] = client_a.cookies["sessionid"].value
    for url in ("/portal/", "/portal/profile/"):
        response = on_b.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
    response = on_b.post("/portal/profile/", {"first_name": "Mallory", "phone": "+1 555 0100"})
    assert response.status_code in (302, 403)
    assert "+4930901820" not in response.content.decode()

    with tenant_context(gym_b):
        record_b.refresh_from_db()
        assert record_b.first_name == "Carla"
        assert record_b.phone == "+4930901820"


# --- The installable shell -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_fixture", "gym_name"), [("client_a", ALPHA.name), ("client_b", BRAVO.name)]
)
def test_the_manifest_names_the_gym(request, client_fixture, gym_name):
    response = request.getfixturevalue(client_fixture).get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    assert "public" in response["Cache-Control"]
    manifest = json.loads(response.content)
    assert manifest["name"] == gym_name
    assert 0 < len(manifest["short_name"]) <= 12
    assert manifest["start_url"] == "/portal/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"].startswith("#")
    assert manifest["background_color"].startswith("#")
    icons = {(icon["sizes"], icon.get("purpose", "any")): icon["src"] for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= set(icons)
    for src in icons.values():
        assert src.startswith("/static/")
        found = finders.find(src.removeprefix("/static/"))
        assert found, src
        with open(found, "rb") as icon_file:
            assert icon_file.read(8) == b"\x89PNG\r\n\x1a\n"


def test_the_service_worker_is_javascript_and_knows_the_offline_page(client_a):
    response = client_a.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert 'const OFFLINE_URL = "/portal/offline/";' in body
    assert '"/static/css/app.css"' in body
    assert 'const STATIC_PREFIX = "/static/";' in body
    assert "&quot;" not in body  # not HTML-escaped
    # One version for the caches, stable between requests.
    version = body.split('const VERSION = "', 1)[1].split('"', 1)[0]
    assert len(version) == 12
    assert f'const VERSION = "{version}"' in client_a.get("/sw.js").content.decode()


@pytest.mark.parametrize("path", ["/sw.js", "/manifest.webmanifest", "/portal/offline/"])
def test_shell_files_answer_only_get(client_a, path):
    assert client_a.post(path).status_code == 405


def test_the_offline_page_holds_nothing_personal(carla, client_a):
    anonymous_body = client_a.get("/portal/offline/").content
    client_a.force_login(carla.user)
    response = client_a.get("/portal/offline/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "You are offline" in body
    assert ALPHA.name in body
    assert CLIENT_EMAIL not in body
    assert "Carla" not in body
    assert "csrfmiddlewaretoken" not in body
    assert response.content == anonymous_body
