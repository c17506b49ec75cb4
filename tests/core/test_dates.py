"""Dates from callers stay inside apps.core.dates' range, wherever they enter the API."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import date

import pytest
from rest_framework import serializers

import apps
from apps.core import dates


def _api_serializer_classes() -> list[type[serializers.BaseSerializer]]:
    for module in pkgutil.walk_packages(apps.__path__, "apps."):
        if ".api" in module.name and "migrations" not in module.name:
            importlib.import_module(module.name)
    found: list[type[serializers.BaseSerializer]] = []
    pending = [serializers.BaseSerializer]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("apps."):
                found.append(sub)
    return found


def test_every_writable_api_date_is_bounded() -> None:
    """A date or time a caller writes goes through dates.DateField or dates.DateTimeField, so a
    year like 0001 or 9999 is a 400 naming the field, never an overflow deeper down."""
    unbounded = []
    for cls in _api_serializer_classes():
        try:
            fields = cls().fields
        except Exception:  # noqa: S112 - serializers that need arguments are seen via their users
            continue
        for name, field in fields.items():
            if field.read_only:
                continue
            if (
                isinstance(field, serializers.DateTimeField)
                and not isinstance(field, dates.DateTimeField)
            ) or (
                isinstance(field, serializers.DateField) and not isinstance(field, dates.DateField)
            ):
                unbounded.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert unbounded == [], "\n".join(unbounded)


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"])
def test_dates_outside_the_range_are_refused(value: str) -> None:
    field = dates.DateField()
    with pytest.raises(serializers.ValidationError) as error:
        field.run_validation(value)
    assert "1900-01-01" in str(error.value.detail)


def test_the_range_itself_is_accepted() -> None:
    assert dates.DateField().run_validation("1900-01-01") == date(1900, 1, 1)
    assert dates.DateTimeField().run_validation("2199-12-31T23:00:00Z").year == 2199
    with pytest.raises(serializers.ValidationError):
        dates.DateTimeField().run_validation("9999-12-31T23:00:00Z")


def test_an_empty_date_in_a_query_is_refused_naming_it(api_client_a, owner_a):
    api_client_a.force_authenticate(owner_a)
    response = api_client_a.get("/api/v1/progress/measurements/", {"measured_from": ""})
    assert response.status_code == 400
    assert "measured_from" in response.content.decode()
