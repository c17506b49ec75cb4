"""A write PostgreSQL refuses by a registered constraint (a concurrent write won the race past
validation) becomes that constraint's field error; any other refusal stays an error."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from apps.core.services import model_save
from apps.crm.models import Client, Lead


def test_a_unique_constraint_lost_to_a_race_is_a_field_error(in_gym_a) -> None:
    Client.objects.create(first_name="Ann", email="dup@alpha.example")
    second = Client(first_name="Ann", last_name="Again", email="dup@alpha.example")
    with pytest.raises(ValidationError) as error:
        # As if validation had run before the first client was committed.
        model_save(second, exclude=["user"], validate_constraints=False)
    assert error.value.message_dict == {"email": ["A client with this email already exists."]}
    assert Client.objects.filter(email="dup@alpha.example").count() == 1


def test_an_unregistered_constraint_stays_an_integrity_error(in_gym_a) -> None:
    with pytest.raises(IntegrityError):
        model_save(Lead(first_name="Nobody"), validate_constraints=False)
