"""Shapes of the messaging API. A message has one shape here and in the WebSocket events
(apps.messaging.payloads.message_data); these serializers document it."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.models import User
from apps.crm.models import Client
from apps.messaging.models import GROUP_KINDS, Conversation, Kind, Via
from apps.messaging.payloads import message_data
from apps.messaging.services import MAX_BODY_LENGTH, MAX_GROUP_SIZE, MAX_TITLE_LENGTH


class SenderSerializer(serializers.Serializer):
    user = serializers.IntegerField(allow_null=True, help_text=_("The sender's user id."))
    client = serializers.IntegerField(
        allow_null=True, help_text=_("The sender's client id, when a client wrote it.")
    )
    name = serializers.CharField()


class AttachmentSerializer(serializers.Serializer):
    url = serializers.CharField(help_text=_("Where to download the file (signed in)."))
    thumbnail_url = serializers.CharField(allow_null=True)
    content_type = serializers.CharField()
    filename = serializers.CharField()
    size = serializers.IntegerField()


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation = serializers.IntegerField()
    sender = SenderSerializer()
    body = serializers.CharField(allow_blank=True, help_text=_("Empty once deleted."))
    via = serializers.ChoiceField(choices=Via.choices)
    created_at = serializers.DateTimeField(read_only=True)
    edited_at = serializers.DateTimeField(allow_null=True, read_only=True)
    deleted_at = serializers.DateTimeField(allow_null=True, read_only=True)
    attachment = AttachmentSerializer(allow_null=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return message_data(instance)


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    title = serializers.CharField(
        allow_blank=True, help_text=_("The group's name, or who the conversation is with.")
    )
    client = PersonSerializer(allow_null=True)
    trainer = PersonSerializer(allow_null=True, help_text=_("The trainer's user."))
    last_message = MessageSerializer(allow_null=True)
    last_message_at = serializers.DateTimeField(allow_null=True, read_only=True)
    unread_count = serializers.IntegerField()
    last_read_message_id = serializers.IntegerField(
        help_text=_("Your read position: every message up to this id is read.")
    )

    def to_representation(self, instance: Conversation) -> dict[str, Any]:
        client = instance.client
        trainer = instance.trainer
        last = instance.last_message
        return {
            "id": instance.pk,
            "kind": instance.kind,
            "title": conversation_title(instance, self.context.get("viewer")),
            "client": {"id": client.pk, "name": client.full_name} if client else None,
            "trainer": (
                {"id": trainer.pk, "name": trainer.get_full_name() or trainer.email}
                if trainer
                else None
            ),
            "last_message": message_data(last) if last else None,
            "last_message_at": serializers.DateTimeField().to_representation(
                instance.last_message_at
            )
            if instance.last_message_at
            else None,
            "unread_count": getattr(instance, "unread_count", 0),
            "last_read_message_id": getattr(instance, "read_position", 0),
        }


def conversation_title(conversation: Conversation, viewer: User | None) -> str:
    """What a person sees as the conversation's name: a group's title; otherwise the other
    side (the client for staff, the gym or the trainer for the client)."""
    if conversation.title:
        return conversation.title
    viewer_is_client = (
        viewer is not None
        and conversation.client is not None
        and (conversation.client.user_id == viewer.pk)
    )
    if not viewer_is_client and conversation.client is not None:
        return conversation.client.full_name
    if conversation.kind == Kind.TRAINER and conversation.trainer is not None:
        return conversation.trainer.get_full_name() or conversation.trainer.email
    return str(_("The gym"))


class ConversationCreateSerializer(serializers.Serializer):
    """Staff: `client` (a trainer writes to their client one to one; front desk and management
    in the client's conversation with the gym), or a group (`kind`, `title`, `users`,
    `clients`). A client: nothing (the gym) or `trainer` (one of their trainers)."""

    client = serializers.IntegerField(required=False, min_value=1)
    trainer = serializers.IntegerField(
        required=False, min_value=1, help_text=_("A trainer's user id (clients only).")
    )
    kind = serializers.ChoiceField(choices=[(kind, kind) for kind in GROUP_KINDS], required=False)
    title = serializers.CharField(required=False, max_length=MAX_TITLE_LENGTH)
    users = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=MAX_GROUP_SIZE,
        help_text=_("Staff user ids (groups)."),
    )
    clients = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=MAX_GROUP_SIZE,
        help_text=_("Client ids (class and team groups)."),
    )


class MessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_BODY_LENGTH, trim_whitespace=False
    )
    attachment = serializers.FileField(
        required=False, help_text=_("A picture (JPEG, PNG, WebP, HEIC) or a PDF.")
    )


class MessageEditSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=MAX_BODY_LENGTH, allow_blank=True)


class ReadSerializer(serializers.Serializer):
    message = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("Read up to this message (the conversation's last one when left out)."),
    )


class MuteSerializer(serializers.Serializer):
    muted = serializers.BooleanField(
        help_text=_("Muted: no reminder of unread messages in this conversation.")
    )


class ReadPositionSerializer(serializers.Serializer):
    conversation = serializers.IntegerField()
    last_read_message_id = serializers.IntegerField()
    read_at = serializers.DateTimeField(allow_null=True, read_only=True)


class UnreadSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("Conversations with unread messages."))


def users_by_id(ids: list[int]) -> list[User]:
    found = list(User.objects.filter(pk__in=ids, is_active=True))
    if len(found) != len(set(ids)):
        raise serializers.ValidationError({"users": [_("Choose people of this gym.")]})
    return found


def clients_by_id(ids: list[int]) -> list[Client]:
    found = list(Client.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise serializers.ValidationError({"clients": [_("Choose only clients you can see.")]})
    return found
