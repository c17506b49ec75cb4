from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.workouts.api.views import (
    CardioLogViewSet,
    SetLogViewSet,
    TrainingStatsApi,
    WeeklyTargetApi,
    WorkoutSessionViewSet,
)

router = SimpleRouter()
router.register("workout-sessions", WorkoutSessionViewSet, basename="workout-session")
router.register("set-logs", SetLogViewSet, basename="set-log")
router.register("cardio-logs", CardioLogViewSet, basename="cardio-log")

urlpatterns = [
    path("training-stats/", TrainingStatsApi.as_view(), name="training-stats"),
    path("weekly-targets/", WeeklyTargetApi.as_view(), name="weekly-target"),
    *router.urls,
]
