"""The platform admin: plans, and every gym with its subscription status."""

from __future__ import annotations

from django.contrib import admin

from apps.platform_billing.models import GymSubscription, PlatformPlan
from apps.tenants.admin import platform_admin


@admin.register(PlatformPlan, site=platform_admin)
class PlatformPlanAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "max_active_clients", "amount", "currency", "is_active")


@admin.register(GymSubscription, site=platform_admin)
class GymSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("gym", "status", "plan", "trial_ends_at", "current_period_end", "lapsed_at")
    list_filter = ("status",)
    list_select_related = ("gym", "plan")
    search_fields = ("gym__subdomain", "gym__name", "stripe_customer_id")
    readonly_fields = (
        "gym",
        "stripe_customer_id",
        "stripe_subscription_id",
        "djstripe_customer",
        "djstripe_subscription",
        "stripe_state_at",
    )
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
