"""Wearable providers' callbacks on the public host (one URL per provider for every gym)."""

from django.urls import path

from apps.wearables import views

app_name = "wearables_public"

urlpatterns = [
    path("strava/callback/", views.strava_callback, name="strava_callback"),
    path("strava/webhook/", views.strava_webhook, name="strava_webhook"),
]
