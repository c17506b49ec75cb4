"""The wearables REST API (under /api/v1/wearables/)."""

from django.urls import include, path

urlpatterns = [
    path("wearables/apple-health/", include("apps.wearables.providers.apple_health.api_urls")),
]
