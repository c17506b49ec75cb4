"""`{% client_activity client %}`: the Activity card on the trainer's client profile (the same
trends as the client's Activity page, next to training adherence), for staff who may see the
client's health data: managers and owners, and the client's current trainers. It links to the
client's nutrition page for those who may set their targets, and to the gym's sync overview for
managers and owners."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template

from apps.accounts.roles import is_management
from apps.crm.models import Client
from apps.crm.selectors import can_see_health_data
from apps.tenants.selectors import gym_today
from apps.wearables import selectors
from apps.wearables.providers.myfitnesspal.selectors import can_manage_nutrition

register = template.Library()

RANGE_PARAM = "activity_days"
WORKOUTS_ON_CARD = 8


@register.inclusion_tag("wearables/_client_card.html", takes_context=True)
def client_activity(context: Any, client: Client) -> dict[str, Any]:
    from apps.wearables.views import activity_context

    request = context["request"]
    if not can_see_health_data(viewer=request.user, client=client):
        return {"visible": False}
    try:
        days = int(request.GET.get(RANGE_PARAM, ""))
    except ValueError:
        days = selectors.CHART_RANGES[0]
    if days not in selectors.CHART_RANGES:
        days = selectors.CHART_RANGES[0]
    data = activity_context(client_id=client.pk, days=days)
    today = gym_today()
    data["workouts"] = data["workouts"][:WORKOUTS_ON_CARD]
    return {
        **data,
        "visible": True,
        "client": client,
        "nutrition_link": can_manage_nutrition(viewer=request.user, client=client),
        "overview_link": is_management(request.user),
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "range_param": RANGE_PARAM,
        "range_anchor": "#wearable-activity",
        "adherence": selectors.training_adherence(client_id=client.pk, today=today),
        "outside": selectors.workout_totals(
            client_id=client.pk, start=today - timedelta(days=days - 1), end=today
        ),
    }
