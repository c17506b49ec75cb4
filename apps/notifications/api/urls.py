from rest_framework.routers import SimpleRouter

from apps.notifications.api.views import NotificationViewSet, PushSubscriptionViewSet

router = SimpleRouter()
router.register("notifications", NotificationViewSet, basename="notification")
router.register(
    "notifications/push-subscriptions", PushSubscriptionViewSet, basename="push-subscription"
)

urlpatterns = router.urls
