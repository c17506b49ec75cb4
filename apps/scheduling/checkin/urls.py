"""Front-desk pages of scheduling: check-in and the door kiosk."""

from django.urls import path

from apps.scheduling.checkin import views as checkin_views

urlpatterns = [
    path("checkin/", checkin_views.checkin, name="checkin"),
    path(
        "checkin/classes/<int:pk>/",
        checkin_views.checkin_class_booking,
        name="checkin_class_booking",
    ),
    path(
        "checkin/appointments/<int:pk>/",
        checkin_views.checkin_appointment,
        name="checkin_appointment",
    ),
    path("kiosk/", checkin_views.kiosk, name="kiosk"),
]
