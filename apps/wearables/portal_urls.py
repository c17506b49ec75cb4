"""Portal pages (mounted under /portal/activity/, in the portal namespace)."""

from django.urls import include, path

from apps.wearables import views

urlpatterns = [
    path("", views.portal_activity, name="activity"),
    path("strava/connect/", views.strava_connect_start, name="activity_strava_connect"),
    path("garmin/", include("apps.wearables.providers.garmin.portal_urls")),
    path("google-health/", include("apps.wearables.providers.google_health.portal_urls")),
    path("apple-health/", include("apps.wearables.providers.apple_health.portal_urls")),
    path("myfitnesspal/", include("apps.wearables.providers.myfitnesspal.portal_urls")),
    path("<str:provider>/sync/", views.portal_connection_sync, name="activity_sync"),
    path(
        "<str:provider>/disconnect/",
        views.connection_disconnect,
        name="activity_disconnect",
    ),
]
