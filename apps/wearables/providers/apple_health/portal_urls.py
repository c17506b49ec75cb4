"""Portal pages for apple_health (under /portal/activity/apple-health/, in the portal namespace)."""

from django.urls import path

from apps.wearables.providers.apple_health import views

urlpatterns = [
    path("", views.apple_health_page, name="activity_apple_health"),
    path("uploads/", views.apple_health_upload_start, name="activity_apple_health_start"),
    path(
        "uploads/<int:export_id>/",
        views.apple_health_upload_status,
        name="activity_apple_health_status",
    ),
    path(
        "uploads/<int:export_id>/chunk/",
        views.apple_health_upload_chunk,
        name="activity_apple_health_chunk",
    ),
    path(
        "uploads/<int:export_id>/progress/",
        views.apple_health_progress,
        name="activity_apple_health_progress",
    ),
]
