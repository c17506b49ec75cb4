"""Wearable providers' callbacks on the public host (one URL per provider for every gym)."""

from django.urls import include, path

from apps.wearables import views

app_name = "wearables_public"

urlpatterns = [
    path("strava/callback/", views.strava_callback, name="strava_callback"),
    path("strava/webhook/", views.strava_webhook, name="strava_webhook"),
    path("garmin/", include("apps.wearables.providers.garmin.urls_public")),
    path("google-health/", include("apps.wearables.providers.google_health.urls_public")),
]
