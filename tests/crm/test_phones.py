"""Phone numbers: one rule (apps.crm.phones) for the services, the API, the staff forms, the
admin and the join form; stored in E.164, found again by the digits people type."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.crm import services
from apps.crm.models import Client, Lead
from apps.crm.phones import normalise_phone, phone_key, phone_search_digits
from tests.conftest import GymClient
from tests.crm.test_api import assert_field_error

BAD_NUMBERS = ["call me maybe", "12", "+44 1", "555 0101", "+44 abc", "077009001234"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07700 900123", "+447700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("(07700) 900-123", "+447700900123"),
        ("+1 650 253 0000", "+16502530000"),
        ("+49 30 901820", "+4930901820"),
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_numbers_are_stored_in_e164(raw, expected):
    assert normalise_phone(raw) == expected


def test_the_default_region_is_a_setting(settings):
    settings.PHONE_DEFAULT_REGION = "DE"
    assert normalise_phone("030 901820") == "+4930901820"
    assert normalise_phone("07700 900123", "GB") == "+447700900123"  # an explicit region wins
    assert normalise_phone("07700 900123") != "+447700900123"  # read as a German number


@pytest.mark.parametrize("raw", BAD_NUMBERS)
def test_bad_numbers_are_an_error_naming_the_field(raw):
    with pytest.raises(ValidationError) as excinfo:
        normalise_phone(raw, field="emergency_contact_phone")
    assert list(excinfo.value.message_dict) == ["emergency_contact_phone"]
    assert "valid phone number" in excinfo.value.message_dict["emergency_contact_phone"][0]


def test_search_digits_and_keys():
    assert "447700900123" in phone_search_digits("07700 900123")
    assert "7700900123" in phone_search_digits("07700 900123")
    assert phone_search_digits("900123") == ["900123"]
    assert phone_search_digits("Ann") == []
    assert phone_search_digits("12") == []
    assert phone_key("07700 900123") == phone_key("+447700900123") == "447700900123"
    assert phone_key("not a number 12") == "12"


# --- Services ---------------------------------------------------------------------------------


def test_services_normalise_and_refuse(crm_a):
    with tenant_context(crm_a.gym):
        ann = Client.objects.get(pk=crm_a.ann.pk)
        assert ann.phone == "+447700900001"  # made with "+44 7700 900001"
        services.client_update(
            actor=crm_a.owner, client=ann, phone="07700 900222", emergency_contact_phone=""
        )
        ann.refresh_from_db()
        assert (ann.phone, ann.emergency_contact_phone) == ("+447700900222", "")
        with pytest.raises(ValidationError) as excinfo:
            services.client_update(
                actor=crm_a.owner, client=ann, phone="12", emergency_contact_phone="nope"
            )
        assert set(excinfo.value.message_dict) == {"phone", "emergency_contact_phone"}
        with pytest.raises(ValidationError) as excinfo:
            services.client_create(actor=crm_a.desk, first_name="Zed", phone="+44 1")
        assert set(excinfo.value.message_dict) == {"phone"}
        assert not Client.objects.filter(first_name="Zed").exists()


def test_leads_are_normalised_and_converted_with_the_same_number(crm_a):
    with tenant_context(crm_a.gym):
        lead = services.lead_capture(first_name="Lia", phone="07700 900101")
        assert lead.phone == "+447700900101"
        with pytest.raises(ValidationError) as excinfo:
            services.lead_capture(first_name="Lia", phone="555 0101")
        assert "phone" in excinfo.value.message_dict
        client = services.lead_convert(actor=crm_a.desk, lead=lead)
        assert client.phone == "+447700900101"
        assert Lead.objects.filter(first_name="Lia").count() == 1


# --- Every way in ---------------------------------------------------------------------------


def test_api_refuses_a_bad_number_and_stores_e164(api_as, crm_a):
    desk = api_as("desk")
    assert_field_error(
        desk.post("/api/v1/clients/", {"first_name": "Ivy", "phone": "12"}, format="json"),
        "phone",
    )
    assert_field_error(
        desk.patch(
            f"/api/v1/clients/{crm_a.bob.pk}/", {"emergency_contact_phone": "x"}, format="json"
        ),
        "emergency_contact_phone",
    )
    response = desk.post(
        "/api/v1/clients/", {"first_name": "Ivy", "phone": "07700 900444"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["phone"] == "+447700900444"
    assert_field_error(
        desk.post("/api/v1/leads/", {"first_name": "Walk", "phone": "+44 3"}, format="json"),
        "phone",
    )


def test_staff_form_shows_the_error_next_to_the_field(crm_a):
    web = GymClient("alpha")
    web.force_login(crm_a.desk)
    response = web.post("/clients/new/", {"first_name": "Ivy", "phone": "call me maybe"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_phone-error"' in body
    assert "valid phone number" in body
    with tenant_context(crm_a.gym):
        assert not Client.objects.filter(first_name="Ivy").exists()
    response = web.post(
        "/clients/new/",
        {
            "first_name": "Ivy",
            "phone": "07700 900555",
            "status": "active",
            "joined_on": "2024-01-02",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(crm_a.gym):
        assert Client.objects.get(first_name="Ivy").phone == "+447700900555"


def test_join_form_refuses_a_bad_number(gym_a, client_a):
    response = client_a.post("/join/", {"first_name": "Jo", "phone": "123"})
    assert "valid phone number" in response.content.decode()
    with tenant_context(gym_a):
        assert not Lead.objects.filter(first_name="Jo").exists()


# --- Search -----------------------------------------------------------------------------------


@pytest.mark.parametrize("term", ["07700 900001", "+44 7700 900001", "900001", "7700900001"])
def test_search_finds_a_number_as_people_type_it(api_as, crm_a, term):
    response = api_as("desk").get("/api/v1/clients/", {"search": term})
    assert [row["first_name"] for row in response.json()["results"]] == ["Ann"]
    web = GymClient("alpha")
    web.force_login(crm_a.desk)
    body = web.get("/clients/", {"search": term}).content.decode()
    assert "Ann Able" in body
    assert "Bob Baker" not in body


def test_search_finds_numbers_stored_before_they_were_normalised(api_as, crm_a):
    with tenant_context(crm_a.gym):
        Client.objects.filter(pk=crm_a.bob.pk).update(phone="07700 900777")  # an old row
    response = api_as("desk").get("/api/v1/clients/", {"search": "+44 7700 900777"})
    assert [row["first_name"] for row in response.json()["results"]] == ["Bob"]


def test_searching_by_phone_keeps_the_query_count_flat(api_as, crm_a):
    with tenant_context(crm_a.gym):
        Client.objects.bulk_create(
            Client(first_name=f"Many{n}", phone=f"+44770090{n:04d}") for n in range(40)
        )
    api = api_as("owner")
    counts = []
    for page_size in (5, 40):
        with CaptureQueriesContext(connection) as queries:
            response = api.get("/api/v1/clients/", {"search": "07700 900", "page_size": page_size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == page_size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_numbers_are_shown_as_people_read_them(crm_a):
    from apps.crm.templatetags.phones import phone_display

    assert phone_display("+447700900123") == "+44 7700 900123"
    assert phone_display("07700 900123 (old)") == "07700 900123 (old)"
    assert phone_display("") == ""
    web = GymClient("alpha")
    web.force_login(crm_a.desk)
    body = web.get(f"/clients/{crm_a.ann.pk}/").content.decode()
    assert 'href="tel:+447700900001">+44 7700 900001</a>' in body
    assert ">+44 7700 900001</a>" in web.get("/clients/").content.decode()


def test_the_migration_normalises_numbers_stored_before(crm_a):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("apps.crm.migrations.0002_normalise_phones")
    with tenant_context(crm_a.gym):
        Client.objects.filter(pk=crm_a.ann.pk).update(
            phone="07700 900001", emergency_contact_phone="ring the bell"
        )
        Lead.objects.filter(pk=crm_a.lead.pk).update(phone="+44 (0)7700 900002")
        migration.normalise(apps, None)
        ann = Client.objects.get(pk=crm_a.ann.pk)
        assert (ann.phone, ann.emergency_contact_phone) == ("+447700900001", "ring the bell")
        assert Lead.objects.get(pk=crm_a.lead.pk).phone == "+447700900002"
