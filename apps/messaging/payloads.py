"""The one shape of a message and a read receipt, for the REST API and the WebSocket events
alike (apps.messaging.api.serializers documents it)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from apps.messaging.models import Message, Participant


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def sender_name(message: Message) -> str:
    if message.sender_client_id:
        return message.sender_client.full_name  # type: ignore[union-attr]
    if message.sender_user_id:
        user = message.sender_user
        return user.get_full_name() or user.email  # type: ignore[union-attr]
    return ""


def attachment_data(message: Message) -> dict[str, Any] | None:
    if not message.attachment_name or message.deleted_at:
        return None
    url = reverse("messaging-message-attachment", kwargs={"pk": message.pk})
    return {
        "url": url,
        "thumbnail_url": f"{url}?size=thumb" if message.attachment_thumbnail else None,
        "content_type": message.attachment_type,
        "filename": message.attachment_filename,
        "size": message.attachment_size,
    }


def message_data(message: Message) -> dict[str, Any]:
    deleted = message.deleted_at is not None
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "sender": {
            "user": message.sender_user_id,
            "client": message.sender_client_id,
            "name": sender_name(message),
        },
        "body": "" if deleted else message.body,
        "via": message.via,
        "created_at": _iso(message.created_at),
        "edited_at": _iso(message.edited_at),
        "deleted_at": _iso(message.deleted_at),
        "attachment": attachment_data(message),
    }


def reader_data(participant: Participant) -> dict[str, Any]:
    if participant.client_id:
        name = participant.client.full_name  # type: ignore[union-attr]
    else:
        user = participant.user
        name = user.get_full_name() or user.email  # type: ignore[union-attr]
    return {"user": participant.user_id, "client": participant.client_id, "name": name}
