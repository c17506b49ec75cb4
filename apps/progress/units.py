"""Units of body measurements: stored metric (kg, cm), shown and entered in each person's units
(User.unit_system). Every conversion in the project goes through this module.

Factors are the exact international definitions (1959): 1 lb = 0.45359237 kg, 1 in = 2.54 cm.
Arithmetic is in Decimal, so a value typed in is converted without binary rounding noise.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from apps.accounts.models import UnitSystem

KG_PER_LB = Decimal("0.45359237")
CM_PER_IN = Decimal("2.54")

# What is shown: two decimals ("100 kg = 220.46 lb").
DISPLAY_PLACES = Decimal("0.01")


class Quantity(StrEnum):
    MASS = "mass"
    LENGTH = "length"


# What is stored: 1 g and 0.1 mm, finer than any scale or tape, and fine enough that a value
# typed with two decimals in either system comes back exactly as typed.
STORED_PLACES: dict[Quantity, Decimal] = {
    Quantity.MASS: Decimal("0.001"),
    Quantity.LENGTH: Decimal("0.01"),
}

UNIT_NAMES: dict[tuple[str, Quantity], str] = {
    (UnitSystem.METRIC, Quantity.MASS): "kg",
    (UnitSystem.METRIC, Quantity.LENGTH): "cm",
    (UnitSystem.IMPERIAL, Quantity.MASS): "lb",
    (UnitSystem.IMPERIAL, Quantity.LENGTH): "in",
}


def _decimal(value: Decimal | int | float | str) -> Decimal:
    # str() first: Decimal(0.1) would carry the float's binary error into the result.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def kg_to_lb(kg: Decimal | int | float | str) -> Decimal:
    return _decimal(kg) / KG_PER_LB


def lb_to_kg(lb: Decimal | int | float | str) -> Decimal:
    return _decimal(lb) * KG_PER_LB


def cm_to_in(cm: Decimal | int | float | str) -> Decimal:
    return _decimal(cm) / CM_PER_IN


def in_to_cm(inches: Decimal | int | float | str) -> Decimal:
    return _decimal(inches) * CM_PER_IN


def unit_name(quantity: Quantity | str, unit_system: str) -> str:
    """ "kg", "cm", "lb" or "in"."""
    return UNIT_NAMES[(_system(unit_system), Quantity(quantity))]


def units_of(unit_system: str) -> dict[str, str]:
    """The unit of each quantity in `unit_system`, as API responses name them."""
    return {quantity.value: unit_name(quantity, unit_system) for quantity in Quantity}


def _system(unit_system: str) -> str:
    return UnitSystem.IMPERIAL if unit_system == UnitSystem.IMPERIAL else UnitSystem.METRIC


def to_display(value: Decimal | None, quantity: Quantity | str, unit_system: str) -> Decimal | None:
    """A stored (metric) value in `unit_system`, rounded for display; None stays None."""
    if value is None:
        return None
    value = _decimal(value)
    if _system(unit_system) == UnitSystem.IMPERIAL:
        value = kg_to_lb(value) if Quantity(quantity) == Quantity.MASS else cm_to_in(value)
    return value.quantize(DISPLAY_PLACES, rounding=ROUND_HALF_UP)


def to_metric(
    value: Decimal | int | float | str | None, quantity: Quantity | str, unit_system: str
) -> Decimal | None:
    """A value entered in `unit_system`, in metric as stored (rounded to the stored places)."""
    if value is None:
        return None
    value = _decimal(value)
    if _system(unit_system) == UnitSystem.IMPERIAL:
        value = lb_to_kg(value) if Quantity(quantity) == Quantity.MASS else in_to_cm(value)
    return value.quantize(STORED_PLACES[Quantity(quantity)], rounding=ROUND_HALF_UP)
