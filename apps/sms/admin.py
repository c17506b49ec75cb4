"""The platform admin's view of gyms' Messaging Services (gyms set them on their own page)."""

from __future__ import annotations

from django.contrib import admin

from apps.sms.models import GymMessagingService
from apps.tenants.admin import platform_admin


@admin.register(GymMessagingService, site=platform_admin)
class GymMessagingServiceAdmin(admin.ModelAdmin):
    list_display = ("service_sid", "gym", "sender_number", "last_inbound_at", "last_status_at")
    list_select_related = ("gym",)
    search_fields = ("service_sid", "gym__subdomain")
    readonly_fields = ("gym", "created_at", "updated_at", "last_inbound_at", "last_status_at")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
