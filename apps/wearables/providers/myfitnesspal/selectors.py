"""Reads for nutrition: who may set a client's targets or import for them, and each day's
intake against the targets (the winning source's day, by apps.wearables.selectors' precedence)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.crm.models import Client
from apps.crm.selectors import can_see_health_data, client_list
from apps.wearables import selectors as wearable_selectors
from apps.wearables.models import DataKind, NutritionTarget

# What intake is compared on, in the order pages show them.
NUTRIENTS = ("calories_kcal", "protein_g", "carbohydrate_g", "fat_g")
# Within this share of the target (either side) a day counts as on target.
ON_TARGET_TOLERANCE = Decimal("0.10")


def can_manage_nutrition(*, viewer: User, client: Client) -> bool:
    """Set targets and import for a client: managers and owners, and the client's current
    trainers (not front desk: intake is health data; not the client: the trainer sets it)."""
    if not (is_management(viewer) or has_role(viewer, Role.TRAINER)):
        return False
    return can_see_health_data(viewer=viewer, client=client)


def nutrition_clients(*, viewer: User) -> QuerySet[Client]:
    """The clients whose nutrition `viewer` may open (others are a 404, never a hint)."""
    if is_management(viewer) or has_role(viewer, Role.TRAINER):
        return client_list(viewer=viewer, prefetch_trainers=False)
    return Client.objects.none()


def nutrition_target_for(*, client_id: int) -> NutritionTarget | None:
    return NutritionTarget.objects.filter(client_id=client_id).select_related("set_by").first()


def _percent(value: Any, target: Any) -> int | None:
    if value is None or not target:
        return None
    return round(Decimal(value) * 100 / Decimal(target))


def _status(value: Any, target: Any) -> str:
    """ "under", "on" or "over" the target; "" when either is unknown."""
    if value is None or not target:
        return ""
    ratio = Decimal(value) / Decimal(target)
    if ratio < 1 - ON_TARGET_TOLERANCE:
        return "under"
    if ratio > 1 + ON_TARGET_TOLERANCE:
        return "over"
    return "on"


def _bar(value: Any, target: Any) -> int:
    """The bar's filled width for pages: the percentage of the target, to the nearest 5, at
    most 100 (a stylesheet class per step: no inline styles under the CSP)."""
    percent = _percent(value, target)
    if percent is None:
        return 0
    return min(100, 5 * round(percent / 5))


def intake_against_targets(*, client_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """Every day from `start` to `end`, oldest first: the day's intake from the winning source
    (None values on days nothing was logged) and, per nutrient, the target, the percentage of
    it eaten and "under"/"on"/"over". Two queries whatever the range."""
    target = nutrition_target_for(client_id=client_id)
    days = {
        row.date: row
        for row in wearable_selectors.daily_rows(
            client_id=client_id, kind=DataKind.NUTRITION, start=start, end=end
        )
    }
    rows: list[dict[str, Any]] = []
    day = start
    while day <= end:
        row = days.get(day)
        entry: dict[str, Any] = {
            "date": day,
            "logged": row is not None,
            "provider": row.provider if row else "",
            "water_ml": row.water_ml if row else None,
            "meals": list(row.meals) if row else [],
            "nutrients": {},
        }
        for name in NUTRIENTS:
            value = getattr(row, name) if row else None
            goal = getattr(target, name) if target else None
            entry[name] = value
            entry["nutrients"][name] = {
                "value": value,
                "target": goal,
                "percent": _percent(value, goal),
                "status": _status(value, goal),
                "bar": _bar(value, goal),
            }
        rows.append(entry)
        day += timedelta(days=1)
    return rows


def intake_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Averages over the logged days of `rows` (from intake_against_targets) and how many of
    them were on the calorie target."""
    logged = [row for row in rows if row["logged"]]
    summary: dict[str, Any] = {"days_logged": len(logged), "days": len(rows)}
    for name in NUTRIENTS:
        values = [row[name] for row in logged if row[name] is not None]
        summary[name] = round(sum(Decimal(v) for v in values) / len(values)) if values else None
    summary["days_on_calorie_target"] = sum(
        1 for row in logged if row["nutrients"]["calories_kcal"]["status"] == "on"
    )
    return summary
