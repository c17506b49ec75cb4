"""Billing in the gym's admin: read only. Selling, refunds and membership changes go through
the staff pages and the API, which call apps.billing.services (audited, Stripe asked first)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.billing.models import (
    CreditGrant,
    Membership,
    MembershipPlan,
    Pack,
    Payment,
    PromotionCode,
)
from apps.core.backoffice import GymAdmin


class ReadOnlyGymAdmin(GymAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MembershipPlan)
class MembershipPlanAdmin(ReadOnlyGymAdmin):
    list_display = ("name", "interval", "price", "currency", "grant", "grant_count", "archived_at")
    list_filter = ("interval", "grant")
    search_fields = ("name",)


@admin.register(Pack)
class PackAdmin(ReadOnlyGymAdmin):
    list_display = ("name", "kind", "credits", "price", "currency", "expiry_days", "archived_at")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(PromotionCode)
class PromotionCodeAdmin(ReadOnlyGymAdmin):
    list_display = ("code", "percent_off", "amount_off", "currency", "active")
    list_filter = ("active",)
    search_fields = ("code",)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyGymAdmin):
    list_display = (
        "client",
        "plan",
        "status",
        "current_period_start",
        "current_period_end",
        "failed_attempts",
    )
    list_filter = ("status",)
    list_select_related = ("client", "plan")
    search_fields = ("client__first_name", "client__last_name", "stripe_subscription_id")


@admin.register(CreditGrant)
class CreditGrantAdmin(ReadOnlyGymAdmin):
    list_display = ("client", "pack", "kind", "remaining", "granted", "expires_at")
    list_filter = ("kind",)
    list_select_related = ("client", "pack")
    search_fields = ("client__first_name", "client__last_name")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyGymAdmin):
    list_display = ("paid_at", "client", "kind", "amount", "currency", "status", "refunded_amount")
    list_filter = ("kind", "status")
    list_select_related = ("client",)
    search_fields = ("client__first_name", "client__last_name", "stripe_id", "description")
    date_hierarchy = "paid_at"
