"""The platform admin's view of which gym each provider account routes to (read only: rows are
written when clients connect and disconnect)."""

from __future__ import annotations

from django.contrib import admin

from apps.tenants.admin import platform_admin
from apps.wearables.routing.models import WearableAccount


@admin.register(WearableAccount, site=platform_admin)
class WearableAccountAdmin(admin.ModelAdmin):
    list_display = ("provider", "provider_user_id", "gym", "connection_id", "created_at")
    list_filter = ("provider",)
    list_select_related = ("gym",)
    search_fields = ("provider_user_id", "gym__subdomain")
    readonly_fields = ("provider", "provider_user_id", "gym", "connection_id", "created_at")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
