"""Portal pages (mounted under /portal/activity/, in the portal namespace)."""

from django.urls import path

from apps.wearables import views

urlpatterns = [
    path("", views.portal_activity, name="activity"),
    path("strava/connect/", views.strava_connect_start, name="activity_strava_connect"),
    path(
        "<str:provider>/disconnect/",
        views.connection_disconnect,
        name="activity_disconnect",
    ),
]
