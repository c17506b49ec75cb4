"""The staff calendar, under /schedule/ (namespace "scheduling", set by apps.scheduling.urls)."""

from django.urls import path

from apps.scheduling.calendar import views as calendar_views

urlpatterns = [
    path("calendar/", calendar_views.calendar, name="calendar"),
    path(
        "calendar/appointments/new/",
        calendar_views.appointment_new,
        name="calendar_appointment_new",
    ),
    path(
        "calendar/appointments/<int:pk>/move/",
        calendar_views.appointment_move,
        name="calendar_appointment_move",
    ),
]
