"""Imports in the back office: listed for owners and managers, never edited there (the import
pages run them through the services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.roles import is_management
from apps.imports.models import ImportJob
from apps.imports.selectors import import_job_list


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "original_filename",
        "status",
        "created_by",
        "created_at",
        "total_rows",
        "created_rows",
        "updated_rows",
        "skipped_rows",
        "failed_rows",
    )
    list_filter = ("status", ("created_at", admin.DateFieldListFilter))
    search_fields = ("original_filename", "created_by__email")
    list_select_related = ("created_by",)
    exclude = ("file", "report")
    readonly_fields = [
        field.name for field in ImportJob._meta.fields if field.name not in ("file", "report")
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportJob]:
        return import_job_list(viewer=request.user)  # type: ignore[arg-type]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_management(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_management(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
