from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.scheduling.api.class_views import ClassTypeViewSet, OccurrenceViewSet
from apps.scheduling.api.policy_views import StrikeViewSet
from apps.scheduling.api.views import AppointmentViewSet, FreeSlotsView

router = SimpleRouter()
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("classes", ClassTypeViewSet, basename="class-type")
router.register("occurrences", OccurrenceViewSet, basename="occurrence")
router.register("strikes", StrikeViewSet, basename="strike")

# Free slots have their own path: /trainers/ belongs to the CRM's TrainerViewSet.
urlpatterns = [*router.urls, path("free-slots/", FreeSlotsView.as_view(), name="free-slots")]
