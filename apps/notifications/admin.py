"""Notifications in the gym's admin: the delivery log and in-app notifications read only
(they are records of what was sent); the suppression list can be edited by hand, through the
service so addresses are normalised."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.core.backoffice import GymAdmin
from apps.notifications.models import Delivery, Notification, Suppression


class ReadOnlyGymAdmin(GymAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyGymAdmin):
    list_display = ("created_at", "channel", "kind", "address", "status", "attempts", "provider")
    list_filter = ("channel", "status", "category")
    search_fields = ("address", "kind", "event_key", "provider_id")
    date_hierarchy = "created_at"
    # Never secret_content: it holds the link a secret kind (an invitation) lets someone in with.
    exclude = ("html", "secret_content")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyGymAdmin):
    list_display = ("created_at", "recipient", "kind", "title", "read_at")
    list_filter = ("kind",)
    list_select_related = ("recipient",)
    search_fields = ("title", "recipient__email")


@admin.register(Suppression)
class SuppressionAdmin(GymAdmin):
    list_display = ("address", "channel", "reason", "created_at")
    list_filter = ("channel", "reason")
    search_fields = ("address",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Taking an address off the list (it was added by mistake) is the one deletion.
        return self._allowed(request)

    def save_model(self, request: HttpRequest, obj: Suppression, form: Any, change: bool) -> None:
        from apps.notifications.services import suppression_add

        saved = suppression_add(
            channel=obj.channel,
            address=obj.address,
            reason=obj.reason,
            detail=obj.detail,
            actor=request.user,
        )
        obj.pk = saved.pk
