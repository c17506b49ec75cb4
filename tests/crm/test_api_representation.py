"""The client list's fast representation equals ClientSerializer's, field for field."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.accounts.models import Role
from apps.crm import selectors, services
from apps.crm.api.serializers import ClientSerializer, client_row
from tests.conftest import make_user


@pytest.mark.parametrize("role", [Role.OWNER, Role.FRONT_DESK])
def test_fast_rows_equal_the_serializer(in_gym_a, owner_a, role):
    viewer = owner_a if role == Role.OWNER else make_user(role, "desk-repr@alpha.example")
    trainer = services.trainer_create(actor=owner_a, email="repr@alpha.example", first_name="R")
    client = services.client_create(
        actor=owner_a,
        first_name="Zoë",
        last_name="Ng",
        email="zoe@example.com",
        date_of_birth=datetime.date(1990, 2, 3),
        health_notes="Asthma",
        parq_answers={"heart_condition": False},
        tags=["vip"],
    )
    services.assignment_create(actor=owner_a, client=client, trainer=trainer)
    services.client_create(actor=owner_a, first_name="Solo")  # no trainer, no email

    request = Request(APIRequestFactory().get("/"))
    request.user = viewer
    clients = list(selectors.client_list(viewer=viewer))
    visible = selectors.health_data_visible_ids(viewer=viewer, client_ids=[c.pk for c in clients])
    for each in clients:
        expected = ClientSerializer(each, context={"request": request}).data
        assert client_row(each, show_health=each.pk in visible) == expected
