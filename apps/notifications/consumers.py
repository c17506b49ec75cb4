"""`/ws/notifications/`: a person's unread count, live (the bell). The server only speaks:
`{"type": "unread", "unread": 3}` on connect and whenever the count changes."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django_tenants.utils import tenant_context


def group_name(schema_name: str, user_id: int) -> str:
    """The group of one person's open pages; it starts with the gym's schema (user ids repeat
    across gyms)."""
    return f"{schema_name}.notifications.{user_id}"


class NotificationsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=4401)
            return
        gym = self.scope["tenant"]
        self.group = group_name(gym.schema_name, user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "unread", "unread": await self._unread()})

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Nothing to say to the server: reading happens through the pages.
        return None

    async def unread_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "unread", "unread": int(event["unread"])})

    @database_sync_to_async
    def _unread(self) -> int:
        from apps.notifications.selectors import unread_count

        with tenant_context(self.scope["tenant"]):
            return unread_count(viewer=self.scope["user"])
