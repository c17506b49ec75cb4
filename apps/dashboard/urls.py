"""The staff home page ("Today") at the root of a gym's host, and its one-click actions
(namespace "dashboard")."""

from django.urls import path

from apps.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "today/class-bookings/<int:pk>/check-in/",
        views.checkin_class_booking,
        name="checkin_class_booking",
    ),
    path(
        "today/appointments/<int:pk>/check-in/",
        views.checkin_appointment,
        name="checkin_appointment",
    ),
    path("today/leads/<int:pk>/<str:what>/", views.lead_action, name="lead_action"),
]
