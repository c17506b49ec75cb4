"""The portal's notification pages, under /portal/notifications/ (namespace "portal")."""

from django.urls import path

from apps.notifications import views

urlpatterns = [
    path("", views.centre, name="notifications"),
    path("preferences/", views.preferences, name="notification_preferences"),
]
