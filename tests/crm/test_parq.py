"""The PAR-Q: defined once (apps.crm.parq), edited in the staff form by those who may see
health data, checked the same way in the API, shown on the profile, never to front desk."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.crm.models import Client
from apps.crm.parq import PARQ_KEYS, parq_answers_clean
from tests.conftest import GymClient
from tests.crm.test_api import assert_field_error

QUESTION = "Do you feel pain in your chest when you do physical activity?"


def web_as(crm, role: str) -> GymClient:  # type: ignore[no-untyped-def]
    client = GymClient("alpha")
    client.force_login(crm.user(role))
    return client


def test_answers_are_checked_against_the_questions():
    assert len(PARQ_KEYS) == 7
    assert parq_answers_clean({"dizziness": True, "bone_joint": None}) == {"dizziness": True}
    assert parq_answers_clean(None) == {}
    for bad in ({"heart": True}, {"dizziness": "yes"}, {"dizziness": 1}, ["yes"], "x"):
        with pytest.raises(ValidationError) as excinfo:
            parq_answers_clean(bad)
        assert list(excinfo.value.message_dict) == ["parq_answers"]


def test_api_validates_parq_answers(api_as, crm_a):
    owner = api_as("owner")
    url = f"/api/v1/clients/{crm_a.ann.pk}/"
    assert_field_error(
        owner.patch(url, {"parq_answers": {"smoker": True}}, format="json"), "parq_answers"
    )
    assert_field_error(
        owner.patch(url, {"parq_answers": {"dizziness": "no"}}, format="json"), "parq_answers"
    )
    response = owner.patch(
        url, {"parq_answers": {"dizziness": False, "bone_joint": True}}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["parq_answers"] == {"dizziness": False, "bone_joint": True}
    # Front desk may not set them at all.
    assert_field_error(
        api_as("desk").patch(url, {"parq_answers": {"dizziness": True}}, format="json"),
        "parq_answers",
    )


@pytest.mark.parametrize(("role", "allowed"), [("owner", True), ("tina", True), ("desk", False)])
def test_the_staff_form_offers_the_questions_to_those_allowed(crm_a, role, allowed):
    body = web_as(crm_a, role).get(f"/clients/{crm_a.ann.pk}/edit/").content.decode()
    assert ('data-testid="client-parq"' in body) is allowed
    assert (QUESTION in body) is allowed
    if allowed:
        # Ann's stored answer is preselected.
        assert re.search(r'name="parq_heart_condition" value="no"[^>]*checked', body)
    new = web_as(crm_a, role).get("/clients/new/").content.decode()
    assert (QUESTION in new) is allowed


def test_a_trainer_saves_the_answers_and_the_profile_shows_them(crm_a):
    with tenant_context(crm_a.gym):
        ann = Client.objects.get(pk=crm_a.ann.pk)
    tina = web_as(crm_a, "tina")
    response = tina.post(
        f"/clients/{ann.pk}/edit/",
        {
            "first_name": "Ann",
            "last_name": "Able",
            "email": ann.email,
            "phone": ann.phone,
            "status": ann.status,
            "tags": "vip, morning",
            "joined_on": ann.joined_on.isoformat(),
            "health_notes": ann.health_notes,
            "parq_heart_condition": "no",
            "parq_chest_pain_activity": "yes",
            "parq_dizziness": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(crm_a.gym):
        ann.refresh_from_db()
    assert ann.parq_answers == {"heart_condition": False, "chest_pain_activity": True}
    for role, sees in (("owner", True), ("tina", True), ("desk", False), ("tom", None)):
        response = web_as(crm_a, role).get(f"/clients/{ann.pk}/")
        if sees is None:  # not Tom's client: not found at all
            assert response.status_code == 404
            continue
        body = response.content.decode()
        assert (QUESTION in body) is sees, role
        assert ("PAR-Q" in body) is sees, role


def test_front_desk_cannot_sneak_answers_in_through_the_form(crm_a):
    with tenant_context(crm_a.gym):
        bob = Client.objects.get(pk=crm_a.bob.pk)
    response = web_as(crm_a, "desk").post(
        f"/clients/{bob.pk}/edit/",
        {
            "first_name": "Bob",
            "last_name": "Baker",
            "email": bob.email,
            "status": bob.status,
            "joined_on": bob.joined_on.isoformat(),
            "parq_dizziness": "yes",
        },
    )
    assert response.status_code == 302
    with tenant_context(crm_a.gym):
        bob.refresh_from_db()
    assert bob.parq_answers == {}
