from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class WhoAmIConsumer(AsyncJsonWebsocketConsumer):
    """Answers with the gym and user the connection was authenticated as: lets clients (and
    tests) check a WebSocket reaches the right gym with the right identity."""

    async def connect(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.accept()
        await self.send_json(
            {"gym": self.scope["tenant"].schema_name, "user": user.email, "role": user.role}
        )
