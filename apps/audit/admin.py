"""The audit log in the gym's back office: read-only (the database refuses changes anyway)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.accounts.roles import is_management
from apps.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "actor_email",
        "actor_role",
        "action",
        "object_type",
        "object_id",
        "ip",
    )
    list_filter = ("action", "actor_role", "object_type", "created_at")
    search_fields = ("actor_email", "action", "object_type", "object_id", "ip", "request_id")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    readonly_fields = [field.name for field in AuditEvent._meta.fields]
    # Counting a large log for every page is slow; the date hierarchy narrows it instead.
    show_full_result_count = False

    def _may_read(self, request: HttpRequest) -> bool:
        return is_management(request.user) or bool(request.user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_read(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_read(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
