"""Channels groups and events of messaging (the protocol: docs/messaging.md).

Each socket joins its user's group, and owners, managers and front desk also the gym's inbox
group; group names start with the gym's schema. An event is addressed when it happens: the
service works out who may read the conversation (apps.messaging.selectors.audience_user_ids,
plus the inbox group for a conversation with the gym) and sends the prepared payload once its
transaction commits, so the consumer forwards it without reading the database: a socket sees
only what its user may read, and a rolled-back message is never announced.

The payload is serialised to JSON once, here, and travels as text: however many sockets a
group reaches, none encodes it again (MessagesConsumer.messaging_event sends the text as is).
"""

from __future__ import annotations

import asyncio
import json
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from apps.messaging.models import Conversation, Kind
from apps.messaging.selectors import audience_user_ids

# The consumer's handler for every event: MessagesConsumer.messaging_event.
EVENT_TYPE = "messaging.event"


def user_group(schema_name: str, user_id: int) -> str:
    return f"{schema_name}.messaging.user.{user_id}"


def inbox_group(schema_name: str) -> str:
    return f"{schema_name}.messaging.inbox"


def audience_groups(conversation: Conversation) -> list[str]:
    schema = connection.schema_name
    groups = [
        user_group(schema, user_id)
        for user_id in sorted(audience_user_ids(conversation=conversation))
    ]
    if conversation.kind == Kind.GYM:
        groups.append(inbox_group(schema))
    return groups


def event(payload: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer event for `payload`: its JSON text, what every socket is sent."""
    return {"type": EVENT_TYPE, "text": json.dumps(payload)}


def _send(groups: list[str], payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:  # pragma: no cover - CHANNEL_LAYERS is always configured
        return
    message = event(payload)

    async def send_all() -> None:
        # Each group_send is a few Redis round trips; the groups go out together rather than
        # one after another.
        await asyncio.gather(*(layer.group_send(group, message) for group in groups))

    async_to_sync(send_all)()


def publish(conversation: Conversation, payload: dict[str, Any]) -> None:
    """Send `payload` to everyone who may read `conversation` once the current transaction
    commits (now, outside one)."""
    transaction.on_commit(partial(_send, audience_groups(conversation), payload))
