"""The owner's Stripe settings on the gym's host."""

from django.urls import path

from apps.connect import views

app_name = "connect"

urlpatterns = [
    path("", views.stripe_settings, name="settings"),
    path("connect/", views.oauth_start, name="oauth_start"),
    path("disconnect/", views.disconnect, name="disconnect"),
]
