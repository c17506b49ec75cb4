from rest_framework.routers import SimpleRouter

from apps.progress.api.views import MeasurementViewSet, PhotoViewSet

router = SimpleRouter()
router.register("progress/measurements", MeasurementViewSet, basename="progress-measurement")
router.register("progress/photos", PhotoViewSet, basename="progress-photo")

urlpatterns = router.urls
