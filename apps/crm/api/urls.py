from rest_framework.routers import SimpleRouter

from apps.crm.api.views import (
    AssignmentViewSet,
    ClientViewSet,
    LeadViewSet,
    NoteViewSet,
    TrainerViewSet,
)

router = SimpleRouter()
router.register("trainers", TrainerViewSet, basename="trainer")
router.register("clients", ClientViewSet, basename="client")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("notes", NoteViewSet, basename="note")
router.register("leads", LeadViewSet, basename="lead")

urlpatterns = router.urls
