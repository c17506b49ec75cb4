"""Garmin's callbacks on the public host (under /integrations/garmin/, in the wearables_public
namespace): the OAuth redirect and the webhook every delivery type is configured to."""

from django.urls import path

from apps.wearables.providers.garmin import views

urlpatterns = [
    path("callback/", views.callback, name="garmin_callback"),
    path("webhook/", views.webhook, name="garmin_webhook"),
]
