"""Front-desk pages of scheduling: check-in, the door kiosk and the booking policy."""

from django.urls import path

from apps.scheduling import checkin_views

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
    path("policies/", checkin_views.policies, name="policies"),
    path("policies/strikes/<int:pk>/waive/", checkin_views.strike_waive, name="strike_waive"),
]
