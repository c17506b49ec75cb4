"""The staff dashboard's CRM pages and the public join form: who gets which page, what each role
sees on it, the HTMX fragments, flat query counts, and spam defences."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.crm import services
from apps.crm.models import Assignment, Client, Lead, LeadStatus, Note, NoteKind
from tests.conftest import GymClient, make_user

HTMX = {"HX-Request": "true"}


@pytest.fixture
def crm(in_gym_a, owner_a):  # type: ignore[no-untyped-def]
    """A small gym: management, front desk, two trainers, a portal client and two clients, of
    whom only Ann is coached (by Tina)."""
    today = timezone.localdate()
    manager = make_user(Role.MANAGER, "manager@alpha.example")
    desk = make_user(Role.FRONT_DESK, "desk@alpha.example")
    portal = make_user(Role.CLIENT, "portal@alpha.example")
    tina_user = make_user(Role.TRAINER, "tina@alpha.example", first_name="Tina", last_name="T")
    tina = services.trainer_create(actor=owner_a, email=tina_user.email)
    tom = services.trainer_create(
        actor=owner_a, email="tom@alpha.example", first_name="Tom", last_name="Trainer"
    )
    ann = services.client_create(
        actor=owner_a,
        first_name="Ann",
        last_name="Able",
        email="ann@example.com",
        phone="+44 7700 900001",
        health_notes="Asthma; carries an inhaler.",
        parq_answers={"heart_condition": False},
        tags=["vip"],
        joined_on=today - timedelta(days=100),
    )
    bob = services.client_create(
        actor=owner_a, first_name="Bob", last_name="Bloggs", email="bob@example.com"
    )
    services.assignment_create(actor=owner_a, client=ann, trainer=tina)
    services.note_create(actor=owner_a, client=ann, kind=NoteKind.HEALTH, body="Knee surgery 2023")
    lead = services.lead_capture(first_name="Lena", last_name="Lead", email="lena@example.com")
    services.certification_create(
        actor=owner_a, trainer=tina, name="First aid", expires_on=today + timedelta(days=10)
    )
    return {
        "owner": owner_a,
        "manager": manager,
        "desk": desk,
        "portal": portal,
        "tina_user": tina_user,
        "tina": tina,
        "tom": tom,
        "ann": ann,
        "bob": bob,
        "lead": lead,
    }


def as_user(client: GymClient, user) -> GymClient:  # type: ignore[no-untyped-def]
    """Log `client` in as `user`, staying in the schema the test runs in (force_login leaves
    the connection on public)."""
    tenant = connection.tenant
    client.force_login(user)
    connection.set_tenant(tenant)
    return client


def user_for(crm, role: str):  # type: ignore[no-untyped-def]
    return {
        "owner": crm["owner"],
        "manager": crm["manager"],
        "trainer": crm["tina_user"],
        "front_desk": crm["desk"],
        "client": crm["portal"],
        "anonymous": None,
    }[role]


ROLES = ("owner", "manager", "trainer", "front_desk", "client", "anonymous")
ALL_STAFF = {"owner": 200, "manager": 200, "trainer": 200, "front_desk": 200, "client": 403}
# What each role gets on each page ("anonymous" always goes to the login page unless listed).
PAGE_ACCESS = {
    "/": {**ALL_STAFF, "client": 302},
    "/clients/": ALL_STAFF,
    "/clients/new/": ALL_STAFF,
    "/clients/{ann}/": ALL_STAFF,
    "/clients/{ann}/edit/": ALL_STAFF,
    # Bob has no trainer: Tina may not know he exists.
    "/clients/{bob}/": {**ALL_STAFF, "trainer": 404},
    "/clients/{bob}/edit/": {**ALL_STAFF, "trainer": 404},
    "/clients/999999/": {
        **ALL_STAFF,
        "owner": 404,
        "manager": 404,
        "trainer": 404,
        "front_desk": 404,
    },
    "/trainers/": ALL_STAFF,
    "/trainers/{tina}/": ALL_STAFF,
    "/trainers/new/": {**ALL_STAFF, "trainer": 403, "front_desk": 403},
    "/leads/": {**ALL_STAFF, "trainer": 403},
    "/join/": dict.fromkeys(ROLES, 200),
}


@pytest.mark.parametrize("path", list(PAGE_ACCESS))
def test_each_page_for_each_role(crm, client_a, path):
    url = path.format(ann=crm["ann"].pk, bob=crm["bob"].pk, tina=crm["tina"].pk)
    for role in ROLES:
        client = GymClient("alpha")
        user = user_for(crm, role)
        if user is not None:
            as_user(client, user)
        response = client.get(url)
        expected = PAGE_ACCESS[path].get(role)
        if expected is None:  # anonymous
            assert response.status_code == 302, (role, url)
            assert response["Location"].startswith("/accounts/login/"), (role, url)
        else:
            assert response.status_code == expected, (role, url, response.status_code)


# --- Client list -----------------------------------------------------------------------------


def test_client_list_search_and_filters(crm, client_a):
    client = as_user(client_a, crm["owner"])
    for query, shown, hidden in [
        ("?search=able", "Ann Able", "Bob Bloggs"),
        ("?search=900001", "Ann Able", "Bob Bloggs"),
        ("?search=BOB%40example", "Bob Bloggs", "Ann Able"),
        (f"?trainer={crm['tina'].pk}", "Ann Able", "Bob Bloggs"),
        ("?tag=VIP", "Ann Able", "Bob Bloggs"),
        (f"?joined_after={timezone.localdate().isoformat()}", "Bob Bloggs", "Ann Able"),
        (
            f"?joined_before={(timezone.localdate() - timedelta(days=1)).isoformat()}",
            "Ann Able",
            "Bob Bloggs",
        ),
        ("?status=paused", None, "Ann Able"),
    ]:
        body = client.get(f"/clients/{query}").content.decode()
        if shown:
            assert shown in body, query
        assert hidden not in body, query


def test_client_list_links_import_and_export_with_the_current_filters(crm, client_a):
    body = as_user(client_a, crm["owner"]).get("/clients/?search=ann&status=active").content
    body = body.decode()
    assert 'href="/clients/import/"' in body
    assert 'href="/clients/export.csv?search=ann&amp;status=active"' in body


def test_client_list_htmx_request_gets_the_table_fragment(crm, client_a):
    response = as_user(client_a, crm["owner"]).get("/clients/?search=ann", headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith('<div id="crm-client-table">')
    assert "<html" not in body
    assert "Ann Able" in body
    assert "Bob Bloggs" not in body
    assert "HX-Request" in response["Vary"]
    # The full page carries the search box wired to that fragment.
    page = client_a.get("/clients/").content.decode()
    assert 'hx-trigger="keyup changed delay:300ms, search"' in page
    assert 'hx-target="#crm-client-table"' in page


def test_trainer_client_list_shows_only_their_clients(crm, client_a):
    body = as_user(client_a, crm["tina_user"]).get("/clients/").content.decode()
    assert "Ann Able" in body
    assert "Bob Bloggs" not in body
    assert "/clients/export.csv" not in body


def _queries(client: GymClient, url: str) -> int:
    # A warm-up request first: the first request of a session records it (usersessions).
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _add_clients(owner, trainers, count: int, start: int = 0) -> None:  # type: ignore[no-untyped-def]
    for n in range(start, start + count):
        client = services.client_create(
            actor=owner, first_name=f"Many{n}", email=f"many{n}@example.com", tags=["bulk"]
        )
        for trainer in trainers:
            services.assignment_create(actor=owner, client=client, trainer=trainer)


def test_client_list_queries_do_not_grow_with_rows(crm, client_a, django_assert_max_num_queries):
    owner = crm["owner"]
    client = as_user(client_a, owner)
    trainers = [crm["tina"], crm["tom"]]
    _add_clients(owner, trainers, 5)
    few = _queries(client, "/clients/?tag=bulk")
    _add_clients(owner, trainers, 45, start=5)
    many = _queries(client, "/clients/?tag=bulk")
    assert few == many
    with django_assert_max_num_queries(15):
        body = client.get("/clients/?tag=bulk").content.decode()
    assert body.count("Many") == 25  # one page


def test_lead_and_trainer_lists_queries_do_not_grow_with_rows(crm, client_a):
    owner = crm["owner"]
    client = as_user(client_a, owner)
    few_leads = _queries(client, "/leads/")
    few_trainers = _queries(client, "/trainers/")
    for n in range(30):
        services.lead_capture(first_name=f"Lead{n}", email=f"lead{n}@example.com")
        trainer = services.trainer_create(actor=owner, email=f"coach{n}@alpha.example")
        services.certification_create(
            actor=owner, trainer=trainer, name="CPR", expires_on=timezone.localdate()
        )
    assert _queries(client, "/leads/") == few_leads
    assert _queries(client, "/trainers/") == few_trainers


def test_trainer_list_pages_are_in_name_order(crm, client_a):
    owner = crm["owner"]
    for first in ("Zoe", "Amy", "Mia"):
        services.trainer_create(
            actor=owner, email=f"{first.lower()}@alpha.example", first_name=first
        )
    page = as_user(client_a, owner).get("/trainers/").context["page"]
    # Counting clients groups the rows, and Django leaves Meta.ordering out of such queries.
    assert page.paginator.object_list.ordered
    names = [(t.user.first_name, t.user.last_name, t.pk) for t in page.object_list]
    assert names == sorted(names)


# --- Client profile --------------------------------------------------------------------------


def test_profile_shows_health_data_only_to_those_allowed(crm, client_a):
    url = f"/clients/{crm['ann'].pk}/"
    for user, sees_health in [
        (crm["owner"], True),
        (crm["tina_user"], True),
        (crm["desk"], False),
    ]:
        body = as_user(GymClient("alpha"), user).get(url).content.decode()
        assert "ann@example.com" in body
        assert ("Asthma" in body) is sees_health, user.email
        assert ("have a heart condition" in body) is sees_health, user.email  # PAR-Q
        # Notes: none at all for front desk.
        assert ("Knee surgery" in body) is sees_health, user.email
        assert ('data-testid="note-form"' in body) is sees_health, user.email
        assert 'data-testid="client-activity"' in body
        assert "Client added" in body


def test_front_desk_cannot_add_notes_and_sees_no_health_kind(crm, client_a):
    client = as_user(client_a, crm["desk"])
    url = f"/clients/{crm['ann'].pk}/"
    assert 'value="health"' not in client.get(url).content.decode()
    response = client.post(
        f"{url}notes/", {"note-kind": "general", "note-body": "hello"}, headers=HTMX
    )
    assert response.status_code == 403
    assert Note.objects.filter(client=crm["ann"]).count() == 1  # the fixture's only


def test_trainer_adds_a_note_through_htmx(crm, client_a):
    client = as_user(client_a, crm["tina_user"])
    url = f"/clients/{crm['ann'].pk}/"
    assert 'value="health"' in client.get(url).content.decode()
    response = client.post(
        f"{url}notes/",
        {"note-kind": NoteKind.SESSION, "note-body": "Deadlift 100 kg x5"},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<section class="card" id="crm-notes"')
    assert "Deadlift 100 kg x5" in body
    assert "Note added" in body  # in the out-of-band activity timeline
    note = Note.objects.get(client=crm["ann"], kind=NoteKind.SESSION)
    assert note.author == crm["tina_user"]
    # An empty note is refused with the error in the fragment.
    response = client.post(f"{url}notes/", {"note-kind": "general", "note-body": ""}, headers=HTMX)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_trainer_cannot_add_a_note_to_a_client_they_do_not_coach(crm, client_a):
    response = as_user(client_a, crm["tina_user"]).post(
        f"/clients/{crm['bob'].pk}/notes/", {"note-kind": "general", "note-body": "x"}
    )
    assert response.status_code == 404


def test_manager_assigns_a_primary_trainer_and_unassigns(crm, client_a):
    client = as_user(client_a, crm["manager"])
    ann = crm["ann"]
    response = client.post(
        f"/clients/{ann.pk}/trainers/",
        {"assign-trainer": crm["tom"].pk, "assign-is_primary": "on"},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<section class="card" id="crm-trainers"')
    assert "Tom Trainer" in body
    # The activity timeline comes along, swapped out of band.
    assert '<section class="card" id="crm-activity"' in body
    assert 'hx-swap-oob="true"' in body
    assert "Trainer assigned" in body
    tom_assignment = Assignment.objects.get(client=ann, trainer=crm["tom"], ends_on__isnull=True)
    tina_assignment = Assignment.objects.get(client=ann, trainer=crm["tina"])
    assert tom_assignment.is_primary
    assert not tina_assignment.is_primary

    response = client.post(f"/clients/{ann.pk}/trainers/{tina_assignment.pk}/end/", headers=HTMX)
    assert response.status_code == 200
    tina_assignment.refresh_from_db()
    assert tina_assignment.ends_on == timezone.localdate()
    assert "1 earlier trainer" in response.content.decode()  # kept as history

    # Without HTMX the page comes back whole.
    response = client.post(f"/clients/{ann.pk}/trainers/", {"assign-trainer": crm["tina"].pk})
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{ann.pk}/#trainers"


def test_assign_with_a_bad_trainer_names_the_field(crm, client_a):
    response = as_user(client_a, crm["owner"]).post(
        f"/clients/{crm['bob'].pk}/trainers/", {"assign-trainer": "999999"}, headers=HTMX
    )
    assert response.status_code == 200
    assert 'id="id_assign-trainer-error"' in response.content.decode()
    assert not Assignment.objects.filter(client=crm["bob"]).exists()


@pytest.mark.parametrize("role", ["trainer", "front_desk"])
def test_only_management_assigns_and_unassigns(crm, client_a, role):
    client = as_user(client_a, user_for(crm, role))
    ann = crm["ann"]
    assignment = Assignment.objects.get(client=ann, trainer=crm["tina"])
    assert (
        client.post(f"/clients/{ann.pk}/trainers/", {"assign-trainer": crm["tom"].pk}).status_code
        == 403
    )
    assert client.post(f"/clients/{ann.pk}/trainers/{assignment.pk}/end/").status_code == 403
    assert not Assignment.objects.filter(client=ann, trainer=crm["tom"]).exists()
    assignment.refresh_from_db()
    assert assignment.ends_on is None


def test_front_desk_adds_a_client_without_health_fields(crm, client_a):
    client = as_user(client_a, crm["desk"])
    form = client.get("/clients/new/").content.decode()
    assert "health_notes" not in form
    response = client.post(
        "/clients/new/",
        {
            "first_name": "Dora",
            "last_name": "Desk",
            "email": "dora@example.com",
            "status": "trial",
            "joined_on": timezone.localdate().isoformat(),
            "tags": "morning, VIP",
            "health_notes": "sneaked in",
        },
    )
    assert response.status_code == 302
    dora = Client.objects.get(email="dora@example.com")
    assert response["Location"] == f"/clients/{dora.pk}/"
    assert dora.health_notes == ""
    assert dora.tags == ["morning", "vip"]


def test_add_client_errors_name_the_field(crm, client_a):
    client = as_user(client_a, crm["owner"])
    assert "health_notes" in client.get("/clients/new/").content.decode()
    response = client.post(
        "/clients/new/",
        {
            "first_name": "Ann",
            "email": "ANN@example.com",
            "status": "active",
            "joined_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_email-error"' in body
    assert "A client with this email already exists." in body


def test_edit_client_saves_changes_and_audits(crm, client_a):
    from apps.audit.models import AuditEvent

    ann = crm["ann"]
    client = as_user(client_a, crm["tina_user"])
    form = client.get(f"/clients/{ann.pk}/edit/").content.decode()
    assert "Asthma" in form  # her trainer may edit health notes
    data = {
        "first_name": "Ann",
        "last_name": "Able",
        "email": "ann@example.com",
        "phone": "+44 7700 900001",
        "status": "paused",
        "tags": "vip",
        "joined_on": ann.joined_on.isoformat(),
        "health_notes": "Asthma; carries an inhaler.",
        "goals": "Run 5 km",
        "parq_heart_condition": "no",
    }
    response = client.post(f"/clients/{ann.pk}/edit/", data)
    assert response.status_code == 302
    ann.refresh_from_db()
    assert (ann.status, ann.goals) == ("paused", "Run 5 km")
    event = AuditEvent.objects.filter(action="client.updated", object_id=str(ann.pk)).latest(
        "created_at"
    )
    assert set(event.changes) == {"status", "goals"}
    body = client.get(f"/clients/{ann.pk}/").content.decode()
    assert "Details changed" in body


# --- Trainers --------------------------------------------------------------------------------


def test_trainer_profile_highlights_expiring_and_expired_certifications(crm, client_a):
    today = timezone.localdate()
    tina = crm["tina"]
    services.certification_create(
        actor=crm["owner"], trainer=tina, name="CPR", expires_on=today - timedelta(days=3)
    )
    services.certification_create(
        actor=crm["owner"], trainer=tina, name="Yoga 200h", expires_on=today + timedelta(days=90)
    )
    body = as_user(client_a, crm["owner"]).get(f"/trainers/{tina.pk}/").content.decode()
    assert body.count("crm-cert-row-expiring") == 1  # First aid, in 10 days
    assert body.count("crm-cert-row-expired") == 1  # CPR
    assert body.count('class="crm-badge crm-cert-') == 2  # Yoga is fine
    assert 'data-testid="trainer-clients"' in body
    assert "Ann Able" in body
    listing = client_a.get("/trainers/").content.decode()
    assert "crm-cert-expired" in listing
    assert "crm-cert-expiring" in listing


def test_trainer_profile_hides_clients_from_other_staff(crm, client_a):
    for user in (crm["desk"], crm["tina_user"]):
        body = as_user(GymClient("alpha"), user).get(f"/trainers/{crm['tom'].pk}/").content
        assert b'data-testid="trainer-clients"' not in body


def test_manager_adds_a_trainer_and_a_certification(crm, client_a):
    client = as_user(client_a, crm["manager"])
    response = client.post(
        "/trainers/new/",
        {
            "email": "nina@alpha.example",
            "first_name": "Nina",
            "last_name": "New",
            "specialties": "mobility, rehab",
            "hourly_rate": "45.00",
            "calendar_colour": "#123abc",
        },
    )
    assert response.status_code == 302
    trainer = crm["tina"].__class__.objects.get(user__email="nina@alpha.example")
    assert trainer.specialties == ["mobility", "rehab"]
    response = client.post(
        f"/trainers/{trainer.pk}/certifications/",
        {"name": "Rehab", "expires_on": "2020-01-01", "issued_on": "2021-01-01"},
    )
    assert response.status_code == 200  # expires before issued: the error is shown
    assert not trainer.certifications.exists()
    response = client.post(
        f"/trainers/{trainer.pk}/certifications/",
        {"name": "Rehab", "expires_on": (timezone.localdate() + timedelta(days=5)).isoformat()},
    )
    assert response.status_code == 302
    assert trainer.certifications.get().name == "Rehab"
    # Adding the same person twice names the field.
    response = client.post(
        "/trainers/new/", {"email": "nina@alpha.example", "calendar_colour": "#123abc"}
    )
    assert response.status_code == 200
    assert "This person is already a trainer." in response.content.decode()


# --- Leads -----------------------------------------------------------------------------------


def test_convert_button_swaps_the_row_and_links_the_new_client(crm, client_a):
    lead = crm["lead"]
    client = as_user(client_a, crm["desk"])
    assert "Lena Lead" in client.get("/leads/").content.decode()
    response = client.post(f"/leads/{lead.pk}/convert/", headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith(f'<tr id="lead-{lead.pk}">')
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert f'href="/clients/{lead.client_id}/"' in body
    assert lead.client.status == "trial"


def test_convert_without_htmx_goes_to_the_client(crm, client_a):
    lead = crm["lead"]
    response = as_user(client_a, crm["owner"]).post(f"/leads/{lead.pk}/convert/")
    lead.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{lead.client_id}/"


def test_lead_status_buttons(crm, client_a):
    lead = crm["lead"]
    client = as_user(client_a, crm["manager"])
    response = client.post(f"/leads/{lead.pk}/status/", {"status": "contacted"}, headers=HTMX)
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED
    assert client.post(f"/leads/{lead.pk}/status/", {"status": "converted"}).status_code == 400
    assert "Lena Lead" in client.get("/leads/?status=contacted").content.decode()
    assert "Lena Lead" not in client.get("/leads/?status=new").content.decode()


def test_trainers_cannot_handle_leads(crm, client_a):
    client = as_user(client_a, crm["tina_user"])
    assert client.post(f"/leads/{crm['lead'].pk}/convert/").status_code == 403
    assert client.post(f"/leads/{crm['lead'].pk}/status/", {"status": "lost"}).status_code == 403
    crm["lead"].refresh_from_db()
    assert crm["lead"].status == LeadStatus.NEW


# --- Public join form ------------------------------------------------------------------------

JOIN = {
    "first_name": "Jo",
    "last_name": "Joiner",
    "email": "jo@example.com",
    "phone": "",
    "message": "Lose 5 kg",
    "marketing_consent": "on",
    "website": "",
}


def test_join_form_captures_a_lead(crm, client_a):
    page = client_a.get("/join/").content.decode()
    assert 'class="crm-hp"' in page
    assert "style=" not in page  # hidden by a class: the CSP forbids inline styles
    response = client_a.post("/join/", JOIN)
    assert response.status_code == 302
    assert response["Location"] == "/join/thanks/"
    lead = Lead.objects.get(email="jo@example.com")
    assert (lead.first_name, lead.message, lead.marketing_consent) == ("Jo", "Lose 5 kg", True)
    assert lead.status == LeadStatus.NEW
    assert "Thank you" in client_a.get("/join/thanks/").content.decode()


def test_join_honeypot_looks_fine_but_saves_nothing(crm, client_a):
    response = client_a.post("/join/", {**JOIN, "website": "http://spam.example"})
    assert response.status_code == 302
    assert response["Location"] == "/join/thanks/"
    assert not Lead.objects.filter(email="jo@example.com").exists()


def test_join_needs_a_way_to_reach_the_person(crm, client_a):
    response = client_a.post("/join/", {**JOIN, "email": "", "phone": ""})
    assert response.status_code == 200
    assert "Leave an email address or a phone number." in response.content.decode()
    response = client_a.post("/join/", {**JOIN, "first_name": ""})
    assert 'id="id_first_name-error"' in response.content.decode()
    assert not Lead.objects.filter(first_name="Jo").exists()


def test_join_is_throttled(crm, client_a):
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["join"]
    allowed = int(rate.split("/")[0])
    for _ in range(allowed):
        # Honeypot posts count too: a bot does not get a larger budget.
        assert client_a.post("/join/", {**JOIN, "website": "x"}).status_code == 302
    response = client_a.post("/join/", JOIN)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert not Lead.objects.filter(email="jo@example.com").exists()
    assert client_a.get("/join/").status_code == 200  # reading the form is never limited


# --- Across gyms -----------------------------------------------------------------------------


def test_another_gyms_owner_gets_404_for_our_objects(crm, gym_a, gym_b, owner_b, client_b):
    ann, tina, lead = crm["ann"], crm["tina"], crm["lead"]
    with tenant_context(gym_b):
        # Gym B has no clients, trainers or leads: the ids below mean nothing there.
        assert not Client.objects.exists()
    client_b.force_login(owner_b)
    for url in (f"/clients/{ann.pk}/", f"/clients/{ann.pk}/edit/", f"/trainers/{tina.pk}/"):
        assert client_b.get(url).status_code == 404, url
    assert client_b.post(f"/leads/{lead.pk}/convert/").status_code == 404
    assert client_b.post(f"/clients/{ann.pk}/notes/", {"note-kind": "general"}).status_code == 404
    with tenant_context(gym_a):
        lead.refresh_from_db()
        assert lead.status == LeadStatus.NEW


def test_a_session_from_one_gym_means_nothing_on_another(crm, client_a):
    as_user(client_a, crm["owner"])
    response = client_a.get("/clients/", HTTP_HOST="bravo.localhost")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
