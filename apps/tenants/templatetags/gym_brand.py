"""The gym's identity in templates: `{% money amount %}` in the gym's currency, written the
reader's way, and the versioned URLs of the gym's stylesheet, logo and icon."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.urls import reverse

from apps.tenants.branding import format_money
from apps.tenants.models import DEFAULT_CURRENCY

register = template.Library()


def _gym(context: template.Context) -> Any:
    gym = context.get("current_gym")
    if gym is None and context.get("request") is not None:
        gym = getattr(context["request"], "tenant", None)
    return gym if getattr(gym, "schema_name", "public") != "public" else None


@register.simple_tag(takes_context=True)
def money(context: template.Context, amount: Decimal | int | float | None) -> str:
    if amount is None or amount == "":
        return "\u2013"
    gym = _gym(context)
    return format_money(amount, getattr(gym, "currency", None) or DEFAULT_CURRENCY)


def _versioned(context: template.Context, name: str) -> str:
    gym = _gym(context)
    version = getattr(gym, "brand_version", 0)
    return f"{reverse(name)}?v={version}"


@register.simple_tag(takes_context=True)
def brand_stylesheet_url(context: template.Context) -> str:
    return _versioned(context, "brand_stylesheet")


@register.simple_tag(takes_context=True)
def brand_logo_url(context: template.Context) -> str:
    """The logo's URL, or "" when the gym has none (the name is shown instead)."""
    gym = _gym(context)
    return _versioned(context, "brand_logo") if gym and gym.logo_name else ""


@register.simple_tag(takes_context=True)
def brand_icon_url(context: template.Context) -> str:
    return _versioned(context, "brand_icon")
