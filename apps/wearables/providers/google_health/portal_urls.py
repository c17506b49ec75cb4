"""Portal pages for Google Health (under /portal/activity/google-health/, portal namespace)."""

from django.urls import path

from apps.wearables.providers.google_health import views

urlpatterns = [
    path("connect/", views.connect_start, name="activity_google_health_connect"),
]
