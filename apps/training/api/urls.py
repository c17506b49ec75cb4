from rest_framework.routers import SimpleRouter

from apps.training.api.views import (
    ExerciseViewSet,
    PlanDayViewSet,
    PlanItemViewSet,
    PlanPhaseViewSet,
    PlanViewSet,
    PlanWeekViewSet,
    ScheduledWorkoutViewSet,
)

router = SimpleRouter()
router.register("exercises", ExerciseViewSet, basename="exercise")
router.register("plans", PlanViewSet, basename="plan")
router.register("plan-phases", PlanPhaseViewSet, basename="plan-phase")
router.register("plan-weeks", PlanWeekViewSet, basename="plan-week")
router.register("plan-days", PlanDayViewSet, basename="plan-day")
router.register("plan-items", PlanItemViewSet, basename="plan-item")
router.register("scheduled-workouts", ScheduledWorkoutViewSet, basename="scheduled-workout")

urlpatterns = router.urls
