"""The HealthKit push API for a companion app (under /api/v1/wearables/apple-health/)."""

from django.urls import path

from apps.wearables.providers.apple_health import api

urlpatterns = [
    path("samples/", api.SampleBatchView.as_view(), name="apple-health-samples"),
    path("exports/", api.HealthExportListView.as_view(), name="apple-health-exports"),
]
