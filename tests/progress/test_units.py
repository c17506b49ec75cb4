"""Unit conversion on known values: the exact international factors, rounding for display."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.progress import units


def test_factors_are_the_international_definitions():
    assert Decimal("0.45359237") == units.KG_PER_LB
    assert Decimal("2.54") == units.CM_PER_IN


@pytest.mark.parametrize(
    ("metric", "quantity", "shown"),
    [
        ("100", "mass", "220.46"),
        ("1", "mass", "2.20"),
        ("0.45359237", "mass", "1.00"),
        ("180", "length", "70.87"),
        ("2.54", "length", "1.00"),
        ("76.2", "length", "30.00"),
    ],
)
def test_metric_to_imperial_for_display(metric, quantity, shown):
    assert units.to_display(Decimal(metric), quantity, "imperial") == Decimal(shown)


def test_metric_users_see_stored_values_rounded():
    assert units.to_display(Decimal("80.456"), "mass", "metric") == Decimal("80.46")
    assert units.to_display(None, "mass", "imperial") is None


@pytest.mark.parametrize(
    ("entered", "quantity", "stored"),
    [
        ("220.46", "mass", "99.999"),
        ("150", "mass", "68.039"),
        ("1", "mass", "0.454"),
        ("70.87", "length", "180.01"),
        ("30", "length", "76.20"),
        ("1", "length", "2.54"),
    ],
)
def test_imperial_input_is_stored_metric(entered, quantity, stored):
    assert units.to_metric(entered, quantity, "imperial") == Decimal(stored)


@pytest.mark.parametrize(
    "value", ["50", "72.5", "99.99", "135", "195.5", "222.2", "27.55", "0.01", "880.37"]
)
@pytest.mark.parametrize("quantity", ["mass", "length"])
@pytest.mark.parametrize("system", ["imperial", "metric"])
def test_round_trips_give_back_what_was_typed(value, quantity, system):
    # Typed with two decimals, stored metric, shown again in the same units: exactly as typed
    # (the stored precision, 1 g and 0.1 mm, is finer than half a display step).
    stored = units.to_metric(value, quantity, system)
    assert units.to_display(stored, quantity, system) == Decimal(value).quantize(Decimal("0.01"))


def test_exact_conversions_both_ways():
    assert units.lb_to_kg(1) == Decimal("0.45359237")
    assert units.kg_to_lb(Decimal("0.45359237")) == 1
    assert units.in_to_cm(12) == Decimal("30.48")
    assert units.cm_to_in(Decimal("30.48")) == 12


def test_unit_names():
    assert units.units_of("metric") == {"mass": "kg", "length": "cm"}
    assert units.units_of("imperial") == {"mass": "lb", "length": "in"}
    # Anything unknown is metric: the stored units.
    assert units.unit_name("mass", "") == "kg"
