"""The API tells the truth: errors are problem documents with the right status, and the OpenAPI
schema documents what the API answers. tests/api/test_schemathesis.py fuzzes the whole schema;
these pin particular answers one by one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django_tenants.utils import tenant_context
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.test import APIClient

from apps.training import services as training_services
from tests.conftest import ALPHA

PROBLEM = "application/problem+json"
ID_PATH = "/api/v1/clients/{id}/"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    generated = SchemaGenerator(urlconf="fitnesscrm.urls_tenant").get_schema(
        request=None, public=True
    )
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


@pytest.fixture
def owner_api(owner_a) -> APIClient:
    api = APIClient(HTTP_HOST=ALPHA.host)
    api.force_authenticate(owner_a)
    return api


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "errors"} <= set(body)
    return body


# --- 401 with WWW-Authenticate ------------------------------------------------------------


def test_a_request_without_credentials_is_a_401_naming_the_scheme(api_client_a):
    response = api_client_a.get("/api/v1/clients/")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == 'Session realm="api"'


def test_a_wrong_app_session_token_is_a_401_too(api_client_a):
    response = api_client_a.get("/api/v1/clients/", HTTP_X_SESSION_TOKEN="not-a-token")
    assert_problem(response, 401)
    assert response.has_header("WWW-Authenticate")


def test_a_signed_in_user_without_the_right_is_still_a_403(db, in_gym_a):
    from tests.conftest import make_user

    client_user = make_user("client", "just-a-client@alpha.example")
    api = APIClient(HTTP_HOST=ALPHA.host)
    api.force_authenticate(client_user)
    response = api.get("/api/v1/invitations/")
    assert_problem(response, 403)
    assert not response.has_header("WWW-Authenticate")


# --- 404 as a problem document ------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/v1/workout-sessions/0.5/", "/api/v1/clients/abc/", "/api/v1/no-such-thing/"],
)
def test_a_path_no_endpoint_matches_is_a_json_404(owner_api, path):
    body = assert_problem(owner_api.get(path), 404)
    assert body["instance"] == path


def test_pages_outside_the_api_keep_their_html_404(client_a):
    response = client_a.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_request_django_refuses_before_the_view_is_a_json_400(owner_api, settings):
    # Django refuses a form with more fields than this before DRF sees it (a 400 of its own).
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 2
    response = owner_api.post("/api/v1/clients/", {"a": 1, "b": 2, "c": 3, "first_name": "x"})
    assert_problem(response, 400)


def test_a_failure_under_the_api_is_a_json_500_and_a_page_elsewhere(db):
    from django.test import RequestFactory

    from apps.core.api.handlers import server_error

    api = server_error(RequestFactory().get("/api/v1/clients/"))
    assert api.status_code == 500
    assert api["Content-Type"].startswith(PROBLEM)
    assert json.loads(api.content)["status"] == 500
    page = server_error(RequestFactory().get("/clients/"))
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")


# --- Pagination parameters ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=&page_size=false", "page"),
        ("page_size=false", "page_size"),
        ("page_size=", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=-3", "page_size"),
        ("page=abc", "page"),
        ("page=0", "page"),
        # A digit, but not an ASCII one (int() would take it).
        ("page=%EF%BC%91", "page"),
    ],
)
def test_a_page_or_page_size_that_is_not_a_number_is_a_400_naming_it(owner_api, query, field):
    body = assert_problem(owner_api.get(f"/api/v1/clients/?{query}"), 400)
    assert field in body["errors"]


def test_good_page_sizes_still_work_and_are_capped(owner_api):
    assert owner_api.get("/api/v1/clients/?page=1&page_size=500").status_code == 200


def test_a_page_past_the_last_stays_a_404_problem(owner_api):
    assert_problem(owner_api.get("/api/v1/clients/?page=999"), 404)


# --- Filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/users/?is_active=5938", "is_active"),
        ("/api/v1/users/?is_active=ture", "is_active"),
        ("/api/v1/workout-sessions/?completed=5938", "completed"),
    ],
)
def test_a_boolean_filter_that_is_not_a_boolean_is_a_400_naming_it(owner_api, path, field):
    body = assert_problem(owner_api.get(path), 400)
    assert field in body["errors"]


@pytest.mark.parametrize("value", ["", "wizard"])
def test_a_choice_filter_left_empty_or_unknown_is_a_400_naming_it(owner_api, value):
    body = assert_problem(owner_api.get(f"/api/v1/users/?role={value}"), 400)
    assert "role" in body["errors"]


def test_choice_filters_still_filter(owner_api):
    roles = {user["role"] for user in owner_api.get("/api/v1/users/?role=owner").json()["results"]}
    assert roles == {"owner"}


def test_boolean_filters_still_filter(owner_api):
    assert owner_api.get("/api/v1/users/?is_active=true").json()["count"] >= 1
    assert owner_api.get("/api/v1/users/?is_active=false").json()["count"] == 0


# --- Bodies that are not objects ----------------------------------------------------------


@pytest.mark.parametrize("body", ['["a list"]', "[]", '"a string"', '""', "7", "null"])
def test_a_json_body_that_is_not_an_object_is_a_400(gym_a, owner_a, owner_api, body):
    with tenant_context(gym_a):
        plan = training_services.plan_create(actor=owner_a, name="Base")
    response = owner_api.generic(
        "POST", f"/api/v1/plans/{plan.pk}/copy/", body, content_type="application/json"
    )
    assert_problem(response, 400)


def test_no_body_at_all_copies_with_the_defaults(gym_a, owner_a, owner_api):
    with tenant_context(gym_a):
        plan = training_services.plan_create(actor=owner_a, name="Base")
    assert owner_api.post(f"/api/v1/plans/{plan.pk}/copy/").status_code == 201


# --- The schema matches the responses -----------------------------------------------------


def _accepts(property_schema: dict[str, Any], components: dict[str, Any], value: Any) -> bool:
    """As Schemathesis validates a response: formats checked, `nullable` honoured."""
    import jsonschema_rs

    if value is None and property_schema.get("nullable"):
        return True
    validator = jsonschema_rs.Draft4Validator(
        {**property_schema, "components": {"schemas": components}}, validate_formats=True
    )
    return validator.is_valid(value)


@pytest.mark.parametrize(
    ("component", "field", "value"),
    [
        ("Client", "email", ""),
        ("Appointment", "video_link", ""),
        ("Exercise", "mechanics", ""),
        ("Exercise", "variation_of", None),
    ],
)
def test_the_schema_allows_what_the_model_stores(schema, component, field, value):
    components = schema["components"]["schemas"]
    assert _accepts(components[component]["properties"][field], components, value)


def test_formats_still_hold_for_values_that_are_not_blank(schema):
    components = schema["components"]["schemas"]
    assert not _accepts(components["Client"]["properties"]["email"], components, "not-an-email")


def _operations(schema: dict[str, Any]):  # type: ignore[no-untyped-def]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_operation_documents_the_errors_any_request_can_get(schema):
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        expected = {"400", "401", "403", "406", "429"}
        if "{" in path:
            expected.add("404")
        if method in ("post", "put", "patch"):
            expected.add("415")
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in expected:
            content = responses[status]["content"]
            assert PROBLEM in content, (method, path, status)
        assert "WWW-Authenticate" in responses["401"]["headers"]
        assert "Retry-After" in responses["429"]["headers"]


def test_paginated_lists_document_the_404_of_a_page_past_the_last(schema):
    listing = schema["paths"]["/api/v1/clients/"]["get"]
    assert "404" in listing["responses"]
    assert "404" in schema["paths"][ID_PATH]["get"]["responses"]


@pytest.mark.django_db
def test_the_public_hosts_api_errors_are_problem_documents_too(public_client) -> None:
    response = public_client.get("/api/v1/gyms/nope/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404
    assert public_client.get("/nope/")["Content-Type"].startswith("text/html")
