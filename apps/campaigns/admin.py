from django.contrib import admin

from apps.campaigns.models import Campaign, CampaignResponse, Segment


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at", "updated_at")
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    """Read-mostly: sending goes through the campaign pages (services), never an admin save."""

    list_display = ("name", "channel", "status", "segment", "scheduled_at", "finished_at")
    list_filter = ("status", "channel")
    search_fields = ("name", "subject")
    list_select_related = ("segment",)
    readonly_fields = (
        "status",
        "scheduled_at",
        "started_at",
        "finished_at",
        "recipient_count",
        "created_by",
        "created_at",
        "updated_at",
    )


@admin.register(CampaignResponse)
class CampaignResponseAdmin(admin.ModelAdmin):
    list_display = ("campaign", "client", "kind", "count", "first_at", "last_at")
    list_filter = ("kind",)
    list_select_related = ("campaign", "client")
    raw_id_fields = ("campaign", "client")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
