"""The platform admin's view of connected accounts and the webhook inbox (read-only: Stripe
is the source of truth for both)."""

from __future__ import annotations

from django.contrib import admin

from apps.connect.models import ConnectedAccount, StripeEvent
from apps.tenants.admin import platform_admin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(ConnectedAccount, site=platform_admin)
class ConnectedAccountAdmin(ReadOnlyAdmin):
    list_display = (
        "account_id",
        "gym",
        "livemode",
        "charges_enabled",
        "payouts_enabled",
        "last_event_at",
        "disconnected_at",
    )
    list_select_related = ("gym",)
    search_fields = ("account_id", "gym__subdomain")


@admin.register(StripeEvent, site=platform_admin)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "account", "gym", "status", "attempts", "received_at")
    list_filter = ("status",)
    list_select_related = ("gym",)
    search_fields = ("event_id", "account", "type")
    show_full_result_count = False
