"""The platform admin on the public host. Gyms, domains and beat schedules live in public only,
so they are registered here and never on a gym's admin site."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.tenants.models import Domain, Gym


class PlatformAdminSite(admin.AdminSite):
    site_header = _("FitnessCRM platform")
    site_title = _("FitnessCRM platform")
    index_title = _("Platform administration")


platform_admin = PlatformAdminSite(name="platform_admin")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Gym, site=platform_admin)
class GymAdmin(admin.ModelAdmin):
    list_display = ("name", "subdomain", "schema_name", "time_zone", "is_active", "created_at")
    list_filter = ("is_active", "time_zone")
    search_fields = ("name", "subdomain", "schema_name")
    readonly_fields = ("schema_name", "created_at")
    inlines = [DomainInline]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        from apps.tenants.selectors import gym_list

        return gym_list()

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        # Gyms are created through gym_create (sign-up, API or `create_gym`) so the owner and
        # the domain are made with them.
        return False


@admin.register(Domain, site=platform_admin)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain", "tenant__name")
    list_select_related = ("tenant",)
