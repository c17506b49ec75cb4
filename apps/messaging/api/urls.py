from rest_framework.routers import SimpleRouter

from apps.messaging.api.views import ConversationViewSet, MessageViewSet

router = SimpleRouter()
router.register("messaging/conversations", ConversationViewSet, basename="messaging-conversation")
router.register("messaging/messages", MessageViewSet, basename="messaging-message")

urlpatterns = router.urls
