"""Automations in the gym's admin: read only. Rules are written and switched in the staff
pages (apps.automations.views), which call the services (validated, audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.automations.models import Rule, Run, StaffTask
from apps.core.backoffice import GymAdmin


class ReadOnlyGymAdmin(GymAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Rule)
class RuleAdmin(ReadOnlyGymAdmin):
    list_display = ("name", "trigger", "threshold", "enabled", "enabled_at", "preset")
    list_filter = ("enabled", "trigger")
    search_fields = ("name",)


@admin.register(Run)
class RunAdmin(ReadOnlyGymAdmin):
    list_display = ("rule", "occurrence_key", "client", "lead", "status", "due_at", "created_at")
    list_filter = ("status",)
    list_select_related = ("rule", "client", "lead")
    search_fields = ("occurrence_key",)
    raw_id_fields = ("client", "lead")


@admin.register(StaffTask)
class StaffTaskAdmin(ReadOnlyGymAdmin):
    list_display = ("title", "assignee", "client", "lead", "due_on", "done_at")
    list_select_related = ("assignee", "client", "lead")
    search_fields = ("title",)
    raw_id_fields = ("client", "lead")
