"""Staff see connections' state in the admin; tokens are never shown."""

from __future__ import annotations

from django.contrib import admin

from apps.wearables.models import Connection


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ("client", "provider", "status", "last_sync_at", "next_attempt_at", "last_error")
    list_filter = ("provider", "status")
    list_select_related = ("client",)
    fields = (
        "client",
        "provider",
        "provider_user_id",
        "status",
        "kinds",
        "scopes",
        "expires_at",
        "last_sync_at",
        "next_attempt_at",
        "last_error",
    )
    readonly_fields = fields

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
