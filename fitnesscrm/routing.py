"""WebSocket routes of a gym's host (under /ws/). Apps add their consumers here."""

from django.urls import path

from apps.core.consumers import WhoAmIConsumer

websocket_urlpatterns = [
    path("ws/whoami/", WhoAmIConsumer.as_asgi()),
]
