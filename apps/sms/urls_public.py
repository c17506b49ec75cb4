"""Twilio's callbacks on the public host: one URL each for every gym (the Messaging Service a
callback names, or the gym in its signed URL, says which gym)."""

from django.urls import path

from apps.sms import views

app_name = "sms_public"

urlpatterns = [
    path("status/", views.status_callback, name="status"),
    path("inbound/", views.inbound, name="inbound"),
]
