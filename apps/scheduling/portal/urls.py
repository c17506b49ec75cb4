"""Portal pages of scheduling (mounted under /portal/schedule/, portal namespace)."""

from django.urls import path

from apps.scheduling.portal import views as portal_views

urlpatterns = [
    path("", portal_views.schedule, name="schedule"),
    path("classes/<int:pk>/book/", portal_views.book, name="schedule_book"),
    path("bookings/<int:pk>/cancel/", portal_views.cancel, name="schedule_cancel"),
]
