"""The wearables REST API (under /api/v1/wearables/)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from apps.wearables.api.views import ConnectionViewSet, DayList, WorkoutViewSet

router = SimpleRouter()
router.register("wearables/connections", ConnectionViewSet, basename="wearable-connection")
router.register("wearables/workouts", WorkoutViewSet, basename="wearable-workout")

urlpatterns = [
    path("wearables/apple-health/", include("apps.wearables.providers.apple_health.api_urls")),
    path("wearables/days/", DayList.as_view(), name="wearable-days"),
    *router.urls,
]
