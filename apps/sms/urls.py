"""The gym's SMS settings on its own host."""

from django.urls import path

from apps.sms import views

app_name = "sms"

urlpatterns = [
    path("", views.sms_settings, name="settings"),
    path("test/", views.test_send, name="test_send"),
    path("remove/", views.remove, name="remove"),
]
