"""WebSocket routes of a gym's host (under /ws/). Apps add their consumers here."""

from django.urls import path

from apps.core.consumers import WhoAmIConsumer
from apps.messaging.consumers import MessagesConsumer
from apps.notifications.consumers import NotificationsConsumer

websocket_urlpatterns = [
    path("ws/whoami/", WhoAmIConsumer.as_asgi()),
    path("ws/notifications/", NotificationsConsumer.as_asgi()),
    path("ws/messages/", MessagesConsumer.as_asgi()),
]
