"""The HealthKit push API for a companion app (under /api/v1/wearables/apple-health/)."""

urlpatterns: list = []
