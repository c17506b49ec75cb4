"""Portal pages for Garmin (under /portal/activity/garmin/, in the portal namespace)."""

from django.urls import path

from apps.wearables.providers.garmin import views

urlpatterns = [
    path("connect/", views.connect_start, name="activity_garmin_connect"),
]
