"""Stripe's callbacks on the public host: one webhook endpoint and one OAuth redirect for
every gym (Stripe registers one URL per platform, not per gym)."""

from django.urls import path

from apps.connect import views

app_name = "connect_public"

urlpatterns = [
    path("webhook/", views.webhook, name="webhook"),
    path("connect/callback/", views.oauth_callback, name="oauth_callback"),
]
