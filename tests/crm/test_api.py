"""The CRM API (/api/v1/trainers, clients, assignments, notes, leads), role by role, with bad
input, query counts and the cross-gym rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.accounts.models import Role, User
from apps.audit.models import AuditEvent
from apps.crm import services
from apps.crm.models import Assignment, Certification, Client, Lead, LeadStatus, Note, Trainer
from tests.conftest import ALPHA, BRAVO, PASSWORD, GymClient

PROBLEM = "application/problem+json"
HEALTH_FIELDS = {"health_notes", "parq_answers"}


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [row["first_name"] for row in response.json()["results"]]


def assert_field_error(response, field: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    assert field in response.json()["errors"], response.json()


# --- Clients: who sees whom ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", ["Ann", "Bob", "Cara"]),
        ("manager", ["Ann", "Bob", "Cara"]),
        ("desk", ["Ann", "Bob", "Cara"]),
        ("tina", ["Ann"]),
        ("tom", ["Cara"]),
        ("cara", ["Cara"]),
    ],
)
def test_client_list_by_role(api_as, role, expected):
    response = api_as(role).get("/api/v1/clients/")
    assert response.status_code == 200
    assert names(response) == expected


@pytest.mark.parametrize(
    ("role", "sees_health"),
    [("owner", True), ("manager", True), ("tina", True), ("desk", False)],
)
def test_health_fields_only_for_those_allowed(api_as, crm_a, role, sees_health):
    listed = api_as(role).get("/api/v1/clients/", {"search": "ann"}).json()["results"][0]
    single = api_as(role).get(f"/api/v1/clients/{crm_a.ann.pk}/").json()
    for data in (listed, single):
        assert (set(data) >= HEALTH_FIELDS) is sees_health
        assert data["email"] == "ann@alpha.example"  # contact details for everyone
    if sees_health:
        assert single["health_notes"] == "Asthma; carries an inhaler."


def test_client_sees_own_profile_with_trainers(api_as, crm_a):
    data = api_as("cara").get(f"/api/v1/clients/{crm_a.cara.pk}/").json()
    assert data["user"] == crm_a.cara_user.pk
    assert data["trainers"] == [
        {
            "id": crm_a.tom.pk,
            "name": "Tom Coach",
            "is_primary": True,
            "assignment": data["trainers"][0]["assignment"],
        }
    ]


@pytest.mark.parametrize(
    ("role", "client"), [("tina", "bob"), ("tom", "ann"), ("cara", "ann"), ("cara", "bob")]
)
def test_clients_out_of_reach_are_404_never_403(api_as, crm_a, role, client):
    pk = getattr(crm_a, client).pk
    api = api_as(role)
    for response in (
        api.get(f"/api/v1/clients/{pk}/"),
        api.patch(f"/api/v1/clients/{pk}/", {"goals": "x"}, format="json"),
        api.delete(f"/api/v1/clients/{pk}/"),
    ):
        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM


def test_unknown_and_malformed_client_ids_are_404(api_as):
    assert api_as("owner").get("/api/v1/clients/999999/").status_code == 404
    assert api_as("owner").get("/api/v1/clients/abc/").status_code == 404


def test_anonymous_gets_401_or_403(crm_a):
    response = APIClient(HTTP_HOST=crm_a.host).get("/api/v1/clients/")
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == PROBLEM


# --- Clients: writes ----------------------------------------------------------------------


def test_owner_creates_client_with_health_data(api_as, crm_a):
    response = api_as("owner").post(
        "/api/v1/clients/",
        {
            "first_name": "Dan",
            "last_name": "Dale",
            "email": "Dan@Example.com",
            "status": "trial",
            "tags": ["Evening"],
            "health_notes": "Knee surgery 2023.",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["email"] == "dan@example.com"
    assert data["tags"] == ["evening"]
    assert data["health_notes"] == "Knee surgery 2023."
    assert data["trainers"] == []
    with tenant_context(crm_a.gym):
        assert AuditEvent.objects.filter(action="client.created", object_id=str(data["id"]))


def test_trainer_who_adds_a_client_coaches_them(api_as, crm_a):
    response = api_as("tina").post(
        "/api/v1/clients/", {"first_name": "Eve", "health_notes": "None."}, format="json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert [t["id"] for t in data["trainers"]] == [crm_a.tina.pk]
    assert data["trainers"][0]["is_primary"] is True
    assert data["health_notes"] == "None."


def test_front_desk_creates_clients_without_health_data(api_as):
    desk = api_as("desk")
    response = desk.post("/api/v1/clients/", {"first_name": "Fay"}, format="json")
    assert response.status_code == 201
    assert not HEALTH_FIELDS & set(response.json())
    response = desk.post(
        "/api/v1/clients/", {"first_name": "Gus", "health_notes": "Diabetes"}, format="json"
    )
    assert_field_error(response, "health_notes")


def test_client_cannot_create_clients(api_as):
    response = api_as("cara").post("/api/v1/clients/", {"first_name": "Hal"}, format="json")
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"first_name": "Ivy", "status": "zombie"}, "status"),
        ({"first_name": "Ivy", "email": "not-an-email"}, "email"),
        ({"first_name": "Ivy", "email": "ANN@alpha.example"}, "email"),  # duplicate
        ({"first_name": ""}, "first_name"),
        ({"last_name": "Only"}, "first_name"),
        (
            {"first_name": "Ivy", "joined_on": "2025-05-01", "churned_on": "2025-04-01"},
            "churned_on",
        ),
        ({"first_name": "Ivy", "joined_on": "yesterday"}, "joined_on"),
        ({"first_name": "Ivy", "tags": "vip"}, "tags"),
        ({"first_name": "Ivy", "parq_answers": ["yes"]}, "parq_answers"),
        ({"first_name": "Ivy", "user": 1}, None),  # unknown fields are ignored, not errors
    ],
)
def test_client_create_bad_input_names_the_field(api_as, payload, field):
    response = api_as("owner").post("/api/v1/clients/", payload, format="json")
    if field is None:
        assert response.status_code == 201
        assert response.json()["user"] is None
        return
    assert_field_error(response, field)


def test_update_rules_by_role(api_as, crm_a):
    ann, cara = crm_a.ann.pk, crm_a.cara.pk
    # The assigned trainer edits their client, health data included.
    response = api_as("tina").patch(
        f"/api/v1/clients/{ann}/", {"goals": "5k", "health_notes": "Ok now"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["goals"] == "5k"
    # Front desk edits contact details, not health data.
    desk = api_as("desk")
    response = desk.patch(f"/api/v1/clients/{ann}/", {"phone": "07700 900111"}, format="json")
    assert response.status_code == 200
    assert response.json()["phone"] == "+447700900111"
    assert "health_notes" not in response.json()
    assert_field_error(
        desk.patch(f"/api/v1/clients/{ann}/", {"health_notes": "x"}, format="json"),
        "health_notes",
    )
    # A client edits a few fields of their own profile.
    me = api_as("cara")
    response = me.patch(f"/api/v1/clients/{cara}/", {"phone": "+44 7700 900222"}, format="json")
    assert response.status_code == 200
    assert response.json()["phone"] == "+447700900222"
    assert_field_error(
        me.patch(f"/api/v1/clients/{cara}/", {"status": "active"}, format="json"), "status"
    )
    # Bad values and a clash with another client's email.
    owner = api_as("owner")
    assert_field_error(
        owner.patch(f"/api/v1/clients/{ann}/", {"email": "bob@alpha.example"}, format="json"),
        "email",
    )
    assert_field_error(
        owner.patch(f"/api/v1/clients/{ann}/", {"churned_on": "2000-01-01"}, format="json"),
        "churned_on",
    )


def test_put_replaces_the_profile(api_as, crm_a):
    response = api_as("manager").put(
        f"/api/v1/clients/{crm_a.bob.pk}/",
        {"first_name": "Robert", "last_name": "Baker", "email": "rob@example.com"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["first_name"] == "Robert"
    assert_field_error(
        api_as("manager").put(f"/api/v1/clients/{crm_a.bob.pk}/", {}, format="json"),
        "first_name",
    )


def test_delete_only_management_and_never_a_portal_user(api_as, crm_a):
    bob = crm_a.bob.pk
    assert api_as("desk").delete(f"/api/v1/clients/{bob}/").status_code == 403
    assert api_as("tina").delete(f"/api/v1/clients/{crm_a.ann.pk}/").status_code == 403
    assert_field_error(api_as("owner").delete(f"/api/v1/clients/{crm_a.cara.pk}/"), "user")
    assert api_as("manager").delete(f"/api/v1/clients/{bob}/").status_code == 204
    with tenant_context(crm_a.gym):
        assert not Client.objects.filter(pk=bob).exists()
        event = AuditEvent.objects.get(action="client.deleted", object_id=str(bob))
        assert "bob@" not in str(event.changes)


# --- Clients: search, filters, ordering, pagination ---------------------------------------


def test_search_by_name_email_phone(api_as):
    owner = api_as("owner")
    assert names(owner.get("/api/v1/clients/", {"search": "bak"})) == ["Bob"]
    assert names(owner.get("/api/v1/clients/", {"search": "CARA@"})) == ["Cara"]
    assert names(owner.get("/api/v1/clients/", {"search": "900001"})) == ["Ann"]
    # Search never widens what a viewer sees.
    assert names(api_as("tina").get("/api/v1/clients/", {"search": "bob"})) == []


def test_filters(api_as, crm_a):
    with tenant_context(crm_a.gym):
        services.client_update(actor=crm_a.owner, client=crm_a.bob, status="paused")
        Client.objects.filter(pk=crm_a.cara.pk).update(joined_on="2024-01-15")
    owner = api_as("owner")
    assert names(owner.get("/api/v1/clients/", {"status": "paused"})) == ["Bob"]
    assert names(owner.get("/api/v1/clients/", {"trainer": crm_a.tina.pk})) == ["Ann"]
    assert names(owner.get("/api/v1/clients/", {"tag": "VIP"})) == ["Ann"]
    assert names(
        owner.get("/api/v1/clients/", {"joined_after": "2024-01-01", "joined_before": "2024-02-01"})
    ) == ["Cara"]
    assert names(owner.get("/api/v1/clients/", {"joined_after": "2024-02-01"})) == ["Ann", "Bob"]
    # Bad filter values are 400s naming the parameter.
    assert_field_error(owner.get("/api/v1/clients/", {"status": "zombie"}), "status")
    assert_field_error(owner.get("/api/v1/clients/", {"trainer": 999999}), "trainer")
    assert_field_error(owner.get("/api/v1/clients/", {"joined_after": "soon"}), "joined_after")
    assert_field_error(
        owner.get(
            "/api/v1/clients/", {"joined_after": "2024-02-01", "joined_before": "2024-01-01"}
        ),
        "joined_before",
    )


def test_ordering_and_pagination(api_as, crm_a):
    with tenant_context(crm_a.gym):
        Client.objects.filter(pk=crm_a.bob.pk).update(joined_on="2020-01-01")
    owner = api_as("owner")
    assert names(owner.get("/api/v1/clients/", {"ordering": "-last_name"})) == [
        "Cara",
        "Bob",
        "Ann",
    ]
    assert names(owner.get("/api/v1/clients/", {"ordering": "joined_on,last_name"}))[0] == "Bob"
    page = owner.get("/api/v1/clients/", {"page_size": 2, "page": 2}).json()
    assert page["count"] == 3
    assert [row["first_name"] for row in page["results"]] == ["Cara"]
    assert page["previous"]
    assert page["next"] is None
    capped = owner.get("/api/v1/clients/", {"page_size": 1000})
    assert capped.status_code == 200  # capped at 100, never refused


# --- Query counts -------------------------------------------------------------------------


@pytest.fixture
def many_clients(crm_a):  # type: ignore[no-untyped-def]
    """60 more clients, each coached by Tina and Tom, with notes; 10 more trainers; 6 soon
    expiring certifications for each trainer; 60 more leads."""
    with tenant_context(crm_a.gym):
        clients = Client.objects.bulk_create(
            Client(first_name=f"Member{i:02}", email=f"m{i}@alpha.example", tags=["bulk"])
            for i in range(60)
        )
        Assignment.objects.bulk_create(
            Assignment(client=client, trainer=trainer, is_primary=trainer == crm_a.tina)
            for client in clients
            for trainer in (crm_a.tina, crm_a.tom)
        )
        Note.objects.bulk_create(
            Note(client=client, author=crm_a.tina.user, kind="general", body="ok")
            for client in clients
        )
        users = User.objects.bulk_create(
            User(email=f"coach{i}@alpha.example", first_name=f"Coach{i:02}", role=Role.TRAINER)
            for i in range(10)
        )
        trainers = Trainer.objects.bulk_create(Trainer(user=user) for user in users)
        soon = timezone.localdate() + timedelta(days=5)
        Certification.objects.bulk_create(
            Certification(trainer=trainer, name=f"Cert {n}", expires_on=soon)
            for trainer in [*trainers, crm_a.tina, crm_a.tom]
            for n in range(6)
        )
        Lead.objects.bulk_create(
            Lead(first_name=f"Lead{i:02}", email=f"lead{i}@example.com") for i in range(60)
        )
    return clients


LIST_URLS = [
    "/api/v1/clients/",
    "/api/v1/trainers/",
    "/api/v1/trainers/expiring_certifications/",
    "/api/v1/assignments/",
    "/api/v1/notes/",
    "/api/v1/leads/",
]


@pytest.mark.parametrize("role", ["owner", "tina", "desk", "cara"])
@pytest.mark.parametrize("url", LIST_URLS)
def test_lists_run_a_constant_number_of_queries(
    api_as, many_clients, django_assert_max_num_queries, role, url
):
    api = api_as(role)
    refused = url == "/api/v1/leads/" and role in ("tina", "cara")
    counts = []
    for page_size in (5, 50):
        with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as queries:
            response = api.get(url, {"page_size": page_size})
        assert response.status_code == (403 if refused else 200)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_client_list_page_size_5_and_50_with_health(api_as, many_clients):
    api = api_as("tina")
    small = api.get("/api/v1/clients/", {"page_size": 5}).json()
    large = api.get("/api/v1/clients/", {"page_size": 50}).json()
    assert len(small["results"]) == 5
    assert len(large["results"]) == 50
    assert all("health_notes" in row for row in large["results"])
    assert all(len(row["trainers"]) == 2 for row in large["results"][1:])


# --- Trainers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", ["Tina", "Tom"]),
        ("desk", ["Tina", "Tom"]),
        ("tina", ["Tina", "Tom"]),
        ("cara", ["Tom"]),
    ],
)
def test_trainer_list_by_role(api_as, role, expected):
    response = api_as(role).get("/api/v1/trainers/")
    assert response.status_code == 200
    assert names(response) == expected


def test_client_cannot_see_other_trainers(api_as, crm_a):
    assert api_as("cara").get(f"/api/v1/trainers/{crm_a.tina.pk}/").status_code == 404
    assert api_as("cara").get(f"/api/v1/trainers/{crm_a.tom.pk}/").status_code == 200


def test_trainer_create_by_management(api_as, crm_a):
    response = api_as("manager").post(
        "/api/v1/trainers/",
        {
            "email": "Uma@Example.com",
            "first_name": "Uma",
            "last_name": "Usher",
            "specialties": ["yoga"],
            "hourly_rate": "40.00",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["email"], data["name"], data["hourly_rate"]) == (
        "uma@example.com",
        "Uma Usher",
        "40.00",
    )
    with tenant_context(crm_a.gym):
        trainer = Trainer.objects.select_related("user").get(pk=data["id"])
        assert trainer.user.role == Role.TRAINER
        assert AuditEvent.objects.filter(action="trainer.created", object_id=str(trainer.pk))


@pytest.mark.parametrize("role", ["desk", "tina", "cara"])
def test_trainer_create_refused_to_others(api_as, role):
    response = api_as(role).post("/api/v1/trainers/", {"email": "new@example.com"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "nope"}, "email"),
        ({}, "email"),
        ({"email": "tina@alpha.example"}, "email"),  # already a trainer
        ({"email": "cara@alpha.example"}, "email"),  # a client
        ({"email": "v@example.com", "hourly_rate": "-5"}, "hourly_rate"),
        ({"email": "v@example.com", "calendar_colour": "red"}, "calendar_colour"),
    ],
)
def test_trainer_create_bad_input(api_as, payload, field):
    assert_field_error(api_as("owner").post("/api/v1/trainers/", payload, format="json"), field)


def test_trainer_update_rules(api_as, crm_a):
    tina = crm_a.tina.pk
    response = api_as("tina").patch(f"/api/v1/trainers/{tina}/", {"bio": "Hi"}, format="json")
    assert response.status_code == 200
    assert response.json()["bio"] == "Hi"
    assert_field_error(
        api_as("tina").patch(f"/api/v1/trainers/{tina}/", {"hourly_rate": "99"}, format="json"),
        "hourly_rate",
    )
    assert (
        api_as("tom").patch(f"/api/v1/trainers/{tina}/", {"bio": "x"}, format="json").status_code
        == 403
    )
    response = api_as("owner").patch(
        f"/api/v1/trainers/{tina}/", {"is_active": False}, format="json"
    )
    assert response.json()["is_active"] is False
    assert api_as("owner").delete(f"/api/v1/trainers/{tina}/").status_code == 405


def test_certifications_nested_and_expiring(api_as, crm_a):
    today = timezone.localdate()
    url = f"/api/v1/trainers/{crm_a.tina.pk}/certifications/"
    response = api_as("tina").post(
        url,
        {
            "name": "CPR",
            "issued_on": str(today - timedelta(days=300)),
            "expires_on": str(today + timedelta(days=10)),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    cert_id = response.json()["id"]
    api_as("owner").post(
        f"/api/v1/trainers/{crm_a.tom.pk}/certifications/",
        {"name": "Level 3", "expires_on": str(today + timedelta(days=300))},
        format="json",
    )
    assert_field_error(
        api_as("owner").post(
            url,
            {"name": "Bad", "issued_on": "2025-02-01", "expires_on": "2025-01-01"},
            format="json",
        ),
        "expires_on",
    )
    assert_field_error(api_as("owner").post(url, {"issuer": "x"}, format="json"), "name")
    assert api_as("tom").post(url, {"name": "Fake"}, format="json").status_code == 403
    assert [c["name"] for c in api_as("desk").get(url).json()] == ["CPR"]
    detail = api_as("owner").get(f"/api/v1/trainers/{crm_a.tina.pk}/").json()
    assert [c["name"] for c in detail["certifications"]] == ["CPR"]

    expiring = api_as("owner").get("/api/v1/trainers/expiring_certifications/").json()
    assert [(c["name"], c["trainer"]) for c in expiring["results"]] == [("CPR", crm_a.tina.pk)]
    wider = (
        api_as("owner")
        .get("/api/v1/trainers/expiring_certifications/", {"within_days": 365})
        .json()
    )
    assert len(wider["results"]) == 2
    assert_field_error(
        api_as("owner").get("/api/v1/trainers/expiring_certifications/", {"within_days": -1}),
        "within_days",
    )
    # A client sees only their own trainers' certifications.
    mine = api_as("cara").get("/api/v1/trainers/expiring_certifications/").json()
    assert mine["results"] == []

    delete_url = f"{url}{cert_id}/"
    assert api_as("tom").delete(delete_url).status_code == 403
    assert (
        api_as("owner")
        .delete(f"/api/v1/trainers/{crm_a.tom.pk}/certifications/{cert_id}/")
        .status_code
        == 404
    )
    assert api_as("tina").delete(delete_url).status_code == 204
    with tenant_context(crm_a.gym):
        assert not Certification.objects.filter(pk=cert_id).exists()


# --- Assignments --------------------------------------------------------------------------


def test_assignment_list_by_role_and_filters(api_as, crm_a):
    def clients_of(response):  # type: ignore[no-untyped-def]
        return sorted(row["client_name"] for row in response.json()["results"])

    assert clients_of(api_as("owner").get("/api/v1/assignments/")) == ["Ann Able", "Cara Cole"]
    assert clients_of(api_as("desk").get("/api/v1/assignments/")) == ["Ann Able", "Cara Cole"]
    assert clients_of(api_as("tina").get("/api/v1/assignments/")) == ["Ann Able"]
    assert clients_of(api_as("cara").get("/api/v1/assignments/")) == ["Cara Cole"]
    owner = api_as("owner")
    assert clients_of(owner.get("/api/v1/assignments/", {"trainer": crm_a.tom.pk})) == ["Cara Cole"]
    assert clients_of(owner.get("/api/v1/assignments/", {"client": crm_a.ann.pk})) == ["Ann Able"]
    assert clients_of(owner.get("/api/v1/assignments/", {"current": "false"})) == []
    assert_field_error(owner.get("/api/v1/assignments/", {"current": "maybe"}), "current")


def test_assign_and_end(api_as, crm_a):
    owner = api_as("owner")
    response = owner.post(
        "/api/v1/assignments/",
        {"client": crm_a.ann.pk, "trainer": crm_a.tom.pk, "is_primary": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    tom_on_ann = response.json()
    assert tom_on_ann["is_primary"] is True
    assert tom_on_ann["is_current"] is True
    trainers = owner.get(f"/api/v1/clients/{crm_a.ann.pk}/").json()["trainers"]
    assert {(t["id"], t["is_primary"]) for t in trainers} == {
        (crm_a.tina.pk, False),
        (crm_a.tom.pk, True),
    }
    # Tom now sees Ann.
    assert "Ann" in names(api_as("tom").get("/api/v1/clients/"))

    end_url = f"/api/v1/assignments/{tom_on_ann['id']}/end/"
    assert api_as("desk").post(end_url, {}, format="json").status_code == 403
    assert_field_error(owner.post(end_url, {"ends_on": "2000-01-01"}, format="json"), "ends_on")
    assert_field_error(owner.post(end_url, {"ends_on": "someday"}, format="json"), "ends_on")
    response = owner.post(end_url, {}, format="json")
    assert response.status_code == 200
    assert response.json()["ends_on"] == str(timezone.localdate())
    assert owner.post(end_url, {}, format="json").status_code == 200  # ending twice is fine
    # History is kept; Tina is primary again; Tom no longer sees Ann.
    history = owner.get("/api/v1/assignments/", {"client": crm_a.ann.pk, "current": "false"})
    assert [row["trainer"] for row in history.json()["results"]] == [crm_a.tom.pk]
    trainers = owner.get(f"/api/v1/clients/{crm_a.ann.pk}/").json()["trainers"]
    assert trainers == [
        {
            "id": crm_a.tina.pk,
            "name": "Tina Trainer",
            "is_primary": True,
            "assignment": trainers[0]["assignment"],
        }
    ]
    assert "Ann" not in names(api_as("tom").get("/api/v1/clients/"))
    # No hard delete, no edit.
    assert owner.delete(f"/api/v1/assignments/{tom_on_ann['id']}/").status_code == 405
    assert owner.patch(f"/api/v1/assignments/{tom_on_ann['id']}/", {}).status_code == 405


def test_assignment_bad_input(api_as, crm_a):
    owner = api_as("owner")
    assert_field_error(
        owner.post(
            "/api/v1/assignments/", {"client": crm_a.bob.pk, "trainer": 999999}, format="json"
        ),
        "trainer",
    )
    assert_field_error(
        owner.post(
            "/api/v1/assignments/", {"client": 999999, "trainer": crm_a.tom.pk}, format="json"
        ),
        "client",
    )
    assert_field_error(owner.post("/api/v1/assignments/", {}, format="json"), "client")
    # A trainer cannot reach a client who is not theirs: for them that client does not exist.
    assert_field_error(
        api_as("tina").post(
            "/api/v1/assignments/",
            {"client": crm_a.bob.pk, "trainer": crm_a.tina.pk},
            format="json",
        ),
        "client",
    )
    with tenant_context(crm_a.gym):
        services.trainer_update(actor=crm_a.owner, trainer=crm_a.tom, is_active=False)
    assert_field_error(
        owner.post(
            "/api/v1/assignments/", {"client": crm_a.bob.pk, "trainer": crm_a.tom.pk}, format="json"
        ),
        "trainer",
    )
    response = api_as("desk").post(
        "/api/v1/assignments/", {"client": crm_a.bob.pk, "trainer": crm_a.tina.pk}, format="json"
    )
    assert response.status_code == 403


# --- Notes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "count"),
    [("owner", 1), ("manager", 1), ("tina", 1), ("tom", 0), ("desk", 0), ("cara", 0)],
)
def test_note_list_by_role(api_as, role, count):
    response = api_as(role).get("/api/v1/notes/")
    assert response.status_code == 200
    assert response.json()["count"] == count


def test_note_writes(api_as, crm_a):
    ann = crm_a.ann.pk
    tina = api_as("tina")
    response = tina.post(
        "/api/v1/notes/", {"client": ann, "kind": "session", "body": "Squats 3x5"}, format="json"
    )
    assert response.status_code == 201, response.content
    note = response.json()
    assert (note["author"], note["author_name"]) == (crm_a.tina.user.pk, "Tina Trainer")
    filtered = tina.get("/api/v1/notes/", {"client": ann, "kind": "session"}).json()
    assert [row["id"] for row in filtered["results"]] == [note["id"]]
    assert_field_error(tina.get("/api/v1/notes/", {"kind": "gossip"}), "kind")

    for role, client in (("desk", ann), ("cara", crm_a.cara.pk)):
        response = api_as(role).post(
            "/api/v1/notes/", {"client": client, "kind": "general", "body": "x"}, format="json"
        )
        assert response.status_code == 403, role
    # A trainer cannot write about a client who is not theirs (not even know they exist).
    assert_field_error(
        api_as("tom").post(
            "/api/v1/notes/", {"client": ann, "kind": "general", "body": "x"}, format="json"
        ),
        "client",
    )
    assert_field_error(
        tina.post("/api/v1/notes/", {"client": ann, "kind": "gossip", "body": "x"}, format="json"),
        "kind",
    )
    assert_field_error(
        tina.post("/api/v1/notes/", {"client": ann, "kind": "general", "body": ""}, format="json"),
        "body",
    )

    url = f"/api/v1/notes/{note['id']}/"
    response = tina.patch(url, {"body": "Squats 5x5"}, format="json")
    assert response.status_code == 200
    assert response.json()["body"] == "Squats 5x5"
    assert api_as("tom").patch(url, {"body": "x"}, format="json").status_code == 404
    assert api_as("desk").delete(url).status_code == 404
    assert api_as("owner").delete(url).status_code == 204


def test_only_author_or_management_change_a_note(api_as, crm_a):
    with tenant_context(crm_a.gym):
        services.assignment_create(actor=crm_a.owner, client=crm_a.ann, trainer=crm_a.tom)
    url = f"/api/v1/notes/{crm_a.note.pk}/"
    assert api_as("tom").get(url).status_code == 200
    assert api_as("tom").patch(url, {"body": "x"}, format="json").status_code == 403
    assert api_as("manager").patch(url, {"body": "Edited"}, format="json").status_code == 200


# --- Leads --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "code"), [("owner", 200), ("desk", 200), ("tina", 403), ("cara", 403)]
)
def test_lead_inbox_access(api_as, crm_a, role, code):
    assert api_as(role).get("/api/v1/leads/").status_code == code
    assert api_as(role).get(f"/api/v1/leads/{crm_a.lead.pk}/").status_code == code
    response = api_as(role).post(f"/api/v1/leads/{crm_a.lead.pk}/convert/", {}, format="json")
    assert response.status_code == code


def test_lead_status_and_create(api_as, crm_a):
    desk = api_as("desk")
    url = f"/api/v1/leads/{crm_a.lead.pk}/"
    response = desk.patch(url, {"status": "contacted"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "contacted"
    assert_field_error(desk.patch(url, {"status": "zombie"}, format="json"), "status")
    assert_field_error(desk.patch(url, {"status": "converted"}, format="json"), "status")
    assert desk.put(url, {"status": "lost"}, format="json").status_code == 405
    assert desk.delete(url).status_code == 405

    response = desk.post(
        "/api/v1/leads/",
        {"first_name": "Walk", "phone": "07700 900333", "source": "walk-in"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert_field_error(
        desk.post("/api/v1/leads/", {"first_name": "Nobody"}, format="json"), "email"
    )
    assert_field_error(
        desk.post("/api/v1/leads/", {"first_name": "X", "email": "bad"}, format="json"), "email"
    )
    contacted = desk.get("/api/v1/leads/", {"status": "contacted"}).json()
    assert [row["id"] for row in contacted["results"]] == [crm_a.lead.pk]
    assert desk.get("/api/v1/leads/", {"search": "walk"}).json()["count"] == 1


def test_lead_convert_is_idempotent(api_as, crm_a):
    url = f"/api/v1/leads/{crm_a.lead.pk}/convert/"
    first = api_as("desk").post(url, {}, format="json")
    assert first.status_code == 200, first.content
    client = first.json()
    assert (client["first_name"], client["status"], client["email"]) == (
        "Lee",
        "trial",
        "lee@alpha.example",
    )
    assert not HEALTH_FIELDS & set(client)  # front desk
    again = api_as("owner").post(url, {}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == client["id"]
    with tenant_context(crm_a.gym):
        assert Client.objects.filter(email="lee@alpha.example").count() == 1
        lead = Lead.objects.get(pk=crm_a.lead.pk)
        assert (lead.status, lead.client_id) == (LeadStatus.CONVERTED, client["id"])


def test_lead_convert_with_trainer(api_as, crm_a):
    url = f"/api/v1/leads/{crm_a.lead.pk}/convert/"
    assert_field_error(api_as("owner").post(url, {"trainer": 999999}, format="json"), "trainer")
    # Front desk converts, but only management assigns trainers: nothing is half done.
    assert api_as("desk").post(url, {"trainer": crm_a.tina.pk}, format="json").status_code == 403
    with tenant_context(crm_a.gym):
        assert Lead.objects.get(pk=crm_a.lead.pk).client_id is None
    response = api_as("manager").post(url, {"trainer": crm_a.tina.pk}, format="json")
    assert response.status_code == 200
    assert [(t["id"], t["is_primary"]) for t in response.json()["trainers"]] == [
        (crm_a.tina.pk, True)
    ]
    assert "Lee" in names(api_as("tina").get("/api/v1/clients/"))


# --- Across gyms --------------------------------------------------------------------------


CROSS_GYM_REQUESTS = [
    ("get", "/api/v1/clients/"),
    ("get", "/api/v1/clients/{ann}/"),
    ("patch", "/api/v1/clients/{ann}/"),
    ("delete", "/api/v1/clients/{bob}/"),
    ("get", "/api/v1/trainers/{tina}/"),
    ("post", "/api/v1/trainers/{tina}/certifications/"),
    ("post", "/api/v1/assignments/"),
    ("post", "/api/v1/assignments/{assignment}/end/"),
    ("get", "/api/v1/notes/{note}/"),
    ("delete", "/api/v1/notes/{note}/"),
    ("get", "/api/v1/leads/{lead}/"),
    ("post", "/api/v1/leads/{lead}/convert/"),
]


def _ids(crm) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with tenant_context(crm.gym):
        assignment = Assignment.objects.get(client=crm.ann)
    connection.set_schema_to_public()
    return {
        "ann": crm.ann.pk,
        "bob": crm.bob.pk,
        "tina": crm.tina.pk,
        "assignment": assignment.pk,
        "note": crm.note.pk,
        "lead": crm.lead.pk,
    }


def test_gym_a_credentials_with_gym_a_ids_on_gym_b_host(crm_a, crm_b):
    ids = _ids(crm_a)
    session = GymClient(ALPHA.subdomain)
    session.force_login(crm_a.owner)
    token = (
        APIClient(HTTP_HOST=ALPHA.host)
        .post(
            "/_allauth/app/v1/auth/login",
            {"email": ALPHA.owner_email, "password": PASSWORD},
            format="json",
        )
        .json()["meta"]["session_token"]
    )
    by_cookie = APIClient(HTTP_HOST=BRAVO.host)
    by_cookie.cookies["sessionid"] = session.cookies["sessionid"].value
    by_token = APIClient(HTTP_HOST=BRAVO.host, HTTP_X_SESSION_TOKEN=token)
    payload = {"client": ids["ann"], "trainer": ids["tina"], "name": "x", "goals": "x"}
    for api in (by_cookie, by_token):
        for method, template in CROSS_GYM_REQUESTS:
            path = template.format(**ids)
            response = getattr(api, method)(path, payload, format="json")
            assert response.status_code in (401, 403, 404), (method, path, response.status_code)
            assert b"bravo.example" not in response.content
    # And gym B's data is untouched.
    with tenant_context(crm_b.gym):
        assert Client.objects.filter(pk=crm_b.bob.pk).exists()
        assert Client.objects.get(pk=crm_b.ann.pk).goals == ""
        assert Lead.objects.get(pk=crm_b.lead.pk).client_id is None


def test_gym_b_owner_cannot_reach_gym_a_only_ids(crm_a, crm_b):
    with tenant_context(crm_a.gym):
        extra = services.client_create(actor=crm_a.owner, first_name="Only", last_name="InA")
    api = APIClient(HTTP_HOST=BRAVO.host)
    api.force_authenticate(crm_b.owner)
    assert api.get(f"/api/v1/clients/{extra.pk}/").status_code == 404
    assert "Only" not in names(api.get("/api/v1/clients/"))


# --- OpenAPI ------------------------------------------------------------------------------


def test_openapi_schema_is_valid_and_has_examples(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in (
        "/api/v1/clients/{id}/",
        "/api/v1/trainers/expiring_certifications/",
        "/api/v1/leads/{id}/convert/",
        "/api/v1/assignments/{id}/end/",
        "/api/v1/notes/",
    ):
        assert path in text
    assert "ANewClient" in text
    assert "ConvertAndAssignATrainer" in text
