"""Loads are stored in kg and shown in the reader's unit."""

from __future__ import annotations

from decimal import Decimal

from django import template

from apps.workouts import metrics

register = template.Library()


@register.filter
def in_unit(load_kg: Decimal | None, unit: str) -> str:
    """`load_kg` in `unit` ("kg" or "lb") with its unit, without trailing zeros."""
    if load_kg is None:
        return ""
    value = metrics.from_kg(Decimal(load_kg), unit if unit in ("kg", "lb") else "kg")
    return f"{value.normalize():f} {unit}"
