"""`/ws/messages/`: live messaging events for the signed-in user (the protocol:
docs/messaging.md).

Kept cheap for many sockets: authorisation happens once, at connect (the user's role is
already loaded by apps.core.channels), and the socket joins its user's group (plus the gym's
inbox group for owners, managers and front desk). Events arrive already addressed and
serialised by the services (apps.messaging.realtime), so forwarding one reads nothing and
encodes nothing. Only what a client sends (a message, a read position, typing) touches the
database, inside the gym's schema, in a thread of the event loop's pool rather than the one
thread Channels shares by default (thread_sensitive): the work reads nothing of the socket
but its scope, opens its own tenant context and transaction on that thread's connection, and
so one socket's send does not queue behind every other socket's. A socket still handles its
own frames one at a time, so one sender's messages keep their order.
"""

from __future__ import annotations

import json
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import tenant_context

from apps.messaging import realtime, selectors, services
from apps.messaging.models import Conversation
from apps.messaging.payloads import message_data

# A socket announces typing at most this often per conversation.
TYPING_INTERVAL_SECONDS = 3.0
MAX_CLIENT_REFERENCE = 64


class MessagesConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        schema = self.scope["tenant"].schema_name
        self.joined = [realtime.user_group(schema, user.pk)]
        if selectors.is_inbox_member(user):
            self.joined.append(realtime.inbox_group(schema))
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.typing_sent: dict[int, float] = {}
        await self.accept()
        await self.send_json({"type": "hello", "user": user.pk, "role": user.role})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def messaging_event(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])

    # --- What the client sends -------------------------------------------------------------

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # A frame that is not JSON gets an error answer, not a closed socket.
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error("", "", "Send a JSON object.")
            return
        kind = content.get("type")
        reference = content.get("ref")
        if not isinstance(reference, str) or len(reference) > MAX_CLIENT_REFERENCE:
            reference = ""
        if kind == "ping":
            await self.send_json({"type": "pong", "ref": reference})
            return
        handler = {"send": self._send, "read": self._read, "typing": self._typing}.get(kind)
        if handler is None:
            await self._error(reference, "type", "Unknown type: use send, read, typing or ping.")
            return
        conversation_id = content.get("conversation")
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            await self._error(reference, "conversation", "Name a conversation by its id.")
            return
        await handler(content, conversation_id, reference)

    async def _error(self, reference: str, field: str, detail: str) -> None:
        await self.send_json({"type": "error", "ref": reference, "field": field, "detail": detail})

    def _in_gym(self, conversation_id: int, work: Any) -> Any:
        """Run `work(conversation)` in the gym's schema on a conversation the user may read;
        None when there is no such conversation."""
        with tenant_context(self.scope["tenant"]):
            user = self.scope["user"]
            try:
                conversation = selectors.conversation_get(viewer=user, pk=conversation_id)
            except Conversation.DoesNotExist:
                return None
            return work(user, conversation)

    async def _call(self, conversation_id: int, work: Any) -> Any:
        # MESSAGING_SOCKET_THREAD_SENSITIVE puts the work back on Channels' one shared thread:
        # for tests whose data lives in one uncommitted transaction, which only that thread's
        # connection sees.
        shared_thread = getattr(settings, "MESSAGING_SOCKET_THREAD_SENSITIVE", False)
        return await database_sync_to_async(self._in_gym, thread_sensitive=shared_thread)(
            conversation_id, work
        )

    async def _send(self, content: dict[str, Any], conversation_id: int, reference: str) -> None:
        body = content.get("body")
        if not isinstance(body, str):
            await self._error(reference, "body", "Write the message as text.")
            return

        def post(user: Any, conversation: Conversation) -> dict[str, Any]:
            message = services.post_message(conversation=conversation, sender_user=user, body=body)
            return message_data(message)

        try:
            data = await self._call(conversation_id, post)
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            await self._error(reference, field, " ".join(messages))
            return
        except PermissionDenied as exc:
            await self._error(reference, "conversation", str(exc) or "Not allowed.")
            return
        if data is None:
            await self._error(reference, "conversation", "No such conversation.")
            return
        await self.send_json({"type": "sent", "ref": reference, "message": data})

    async def _read(self, content: dict[str, Any], conversation_id: int, reference: str) -> None:
        up_to = content.get("message")
        if up_to is not None and (not isinstance(up_to, int) or isinstance(up_to, bool)):
            await self._error(reference, "message", "Name a message by its id.")
            return

        def read(user: Any, conversation: Conversation) -> bool:
            services.mark_read(viewer=user, conversation=conversation, up_to=up_to)
            return True

        try:
            done = await self._call(conversation_id, read)
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            await self._error(reference, field, " ".join(messages))
            return
        if done is None:
            await self._error(reference, "conversation", "No such conversation.")

    async def _typing(self, content: dict[str, Any], conversation_id: int, reference: str) -> None:
        now = time.monotonic()
        if now - self.typing_sent.get(conversation_id, 0.0) < TYPING_INTERVAL_SECONDS:
            return
        self.typing_sent[conversation_id] = now

        def typing(user: Any, conversation: Conversation) -> bool:
            realtime.publish(
                conversation,
                {
                    "type": "typing",
                    "conversation": conversation.pk,
                    "user": user.pk,
                    "name": user.get_full_name() or user.email,
                },
            )
            return True

        if await self._call(conversation_id, typing) is None:
            await self._error(reference, "conversation", "No such conversation.")
