"""Google Health callbacks on the public host (under /integrations/google-health/, in the
wearables_public namespace)."""

from django.urls import path

from apps.wearables.providers.google_health import views

urlpatterns = [
    path("callback/", views.callback, name="google_health_callback"),
    path("webhook/", views.webhook, name="google_health_webhook"),
]
