"""Writes of messaging: conversations, messages, read positions. Each service checks the
actor's right through the selectors' rules, raises ValidationError naming the field on bad
input, and announces what happened to the sockets once its transaction commits
(apps.messaging.realtime.publish), so a post through a page, the API, a socket or an SMS
reaches every socket alike.

Posting a message writes no audit event: the message row is itself the record of who said
what and when. Edits, deletions and new conversations are audited (which fields, never the
text).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import partial
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_staff_member
from apps.audit.services import audit_record
from apps.crm.models import Client
from apps.messaging import realtime, selectors
from apps.messaging.attachments import check_attachment
from apps.messaging.models import (
    GROUP_KINDS,
    Conversation,
    Kind,
    Message,
    Participant,
    Via,
)
from apps.messaging.payloads import message_data, reader_data, sender_name

MAX_BODY_LENGTH = 5000
MAX_TITLE_LENGTH = 120
MAX_GROUP_SIZE = 200
ATTACHMENT_FOLDER = "messages"


# An unread streak older than this gets no reminder any more (and bounds the sweep).
REMINDER_LOOKBACK = timedelta(days=7)
PREVIEW_LENGTH = 140


def edit_window() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "MESSAGE_EDIT_WINDOW_MINUTES", 15)))


def notify_after() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "MESSAGE_NOTIFY_AFTER_MINUTES", 30)))


# --- Conversations --------------------------------------------------------------------------


def _client_participant(conversation: Conversation, client: Client) -> Participant:
    participant, _created = Participant.objects.get_or_create(
        conversation=conversation, client=client, user=None
    )
    return participant


def _user_participant(conversation: Conversation, user: User) -> Participant:
    participant, _created = Participant.objects.get_or_create(
        conversation=conversation, user=user, client=None
    )
    return participant


def _audit_created(conversation: Conversation, actor: User | None) -> None:
    audit_record(
        action="conversation.created",
        actor=actor,
        obj=conversation,
        changes={"kind": {"before": None, "after": conversation.kind}},
    )


@transaction.atomic
def conversation_with_gym(*, client: Client, actor: User | None = None) -> Conversation:
    """The client's conversation with the gym's staff (made the first time it is needed).
    Inbound SMS from the client land here (apps.sms)."""
    conversation, created = Conversation.objects.get_or_create(
        kind=Kind.GYM, client=client, trainer=None, defaults={"created_by": actor}
    )
    if created:
        _client_participant(conversation, client)
        _audit_created(conversation, actor)
    return conversation


@transaction.atomic
def conversation_with_trainer(
    *, client: Client, trainer: User, actor: User | None = None
) -> Conversation:
    """The conversation between `client` and `trainer` (a trainer's user), who must coach the
    client now."""
    assigned = selectors.client_trainers(client=client).filter(pk=trainer.pk).exists()
    if not assigned:
        raise ValidationError({"trainer": [_("This trainer does not coach this client.")]})
    conversation, created = Conversation.objects.get_or_create(
        kind=Kind.TRAINER, client=client, trainer=trainer, defaults={"created_by": actor}
    )
    if created:
        _client_participant(conversation, client)
        _user_participant(conversation, trainer)
        _audit_created(conversation, actor)
    return conversation


def conversation_open(
    *, actor: User, client: Client | None = None, trainer: User | None = None
) -> Conversation:
    """Where `actor` writes to someone: a trainer to their client, in their one-to-one
    conversation; front desk and management to a client, in the client's conversation with the
    gym; a client to the gym, or to one of their trainers."""
    if has_role(actor, Role.CLIENT):
        own = Client.objects.filter(user=actor).first()
        if own is None:
            raise PermissionDenied(_("You have no client record at this gym."))
        if trainer is None:
            return conversation_with_gym(client=own, actor=actor)
        return conversation_with_trainer(client=own, trainer=trainer, actor=actor)
    if client is None:
        raise ValidationError({"client": [_("Choose a client.")]})
    if not selectors.messageable_clients(viewer=actor).filter(pk=client.pk).exists():
        raise ValidationError({"client": [_("Choose one of your clients.")]})
    if has_role(actor, Role.TRAINER):
        return conversation_with_trainer(client=client, trainer=actor, actor=actor)
    if selectors.is_inbox_member(actor):
        return conversation_with_gym(client=client, actor=actor)
    raise PermissionDenied(_("Your role does not allow this."))


@transaction.atomic
def group_create(
    *,
    actor: User,
    kind: str,
    title: str,
    users: list[User] | tuple[User, ...] = (),
    clients: list[Client] | tuple[Client, ...] = (),
) -> Conversation:
    """A group: a class, a team (staff and clients) or staff only. Staff start groups, with
    the colleagues they choose and only clients they may see themselves."""
    if not is_staff_member(actor):
        raise PermissionDenied(_("Only staff start group conversations."))
    if kind not in GROUP_KINDS:
        raise ValidationError({"kind": [_("Choose class, team or staff.")]})
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": [_("Give the group a name.")]})
    if len(title) > MAX_TITLE_LENGTH:
        raise ValidationError(
            {"title": [_("At most %(count)s characters.") % {"count": MAX_TITLE_LENGTH}]}
        )
    members = {user.pk: user for user in users if user.pk != actor.pk}
    if any(not is_staff_member(user) for user in members.values()):
        raise ValidationError({"users": [_("Add clients as clients, staff as staff.")]})
    client_ids = {client.pk for client in clients}
    if client_ids and kind == Kind.STAFF:
        raise ValidationError({"clients": [_("A staff-only group has no clients.")]})
    visible = selectors.messageable_clients(viewer=actor).filter(pk__in=client_ids).count()
    if visible != len(client_ids):
        raise ValidationError({"clients": [_("Choose only clients you can see.")]})
    if len(members) + len(client_ids) + 1 > MAX_GROUP_SIZE:
        raise ValidationError(
            {"users": [_("A group has at most %(count)s people.") % {"count": MAX_GROUP_SIZE}]}
        )
    conversation = Conversation.objects.create(kind=kind, title=title, created_by=actor)
    Participant.objects.bulk_create(
        [Participant(conversation=conversation, user=actor)]
        + [Participant(conversation=conversation, user=user) for user in members.values()]
        + [Participant(conversation=conversation, client_id=pk) for pk in sorted(client_ids)]
    )
    _audit_created(conversation, actor)
    return conversation


@transaction.atomic
def conversation_mute(*, viewer: User, conversation: Conversation, muted: bool) -> Participant:
    """Stop (or restart) unread reminders for `viewer` in `conversation`."""
    participant = _own_participant(viewer, conversation)
    if participant.muted != muted:
        participant.muted = muted
        participant.save(update_fields=["muted"])
    return participant


# --- Messages -------------------------------------------------------------------------------


def _random_name(extension: str, suffix: str = "") -> str:
    # 128 random bits under the gym's own storage prefix: nobody can guess another's file.
    return f"{ATTACHMENT_FOLDER}/{secrets.token_urlsafe(16)}{suffix}.{extension}"


def attachment_files_delete(*, schema_name: str, names: list[str]) -> None:
    """Remove stored files of a gym (missing ones are fine: deleting twice is harmless)."""
    with schema_context(schema_name):
        for name in names:
            if name:
                default_storage.delete(name)


def _check_body(body: str | None, *, has_attachment: bool) -> str:
    body = (body or "").strip()
    if "\x00" in body:
        raise ValidationError(
            {"body": [_("The message contains a character that is not allowed.")]}
        )
    if not body and not has_attachment:
        raise ValidationError({"body": [_("Write a message or attach a file.")]})
    if len(body) > MAX_BODY_LENGTH:
        raise ValidationError(
            {"body": [_("At most %(count)s characters.") % {"count": MAX_BODY_LENGTH}]}
        )
    return body


def _own_participant(viewer: User, conversation: Conversation) -> Participant:
    """The viewer's participant row, made when staff first read or write in a conversation
    with the gym (they may read it by their role)."""
    participant = selectors.participant_for(viewer=viewer, conversation=conversation)
    if participant is not None:
        return participant
    if has_role(viewer, Role.CLIENT):  # pragma: no cover - clients are participants from the start
        raise PermissionDenied
    return _user_participant(conversation, viewer)


def _may_write(
    conversation: Conversation, sender_user: User | None, sender_client: Client | None
) -> None:
    if sender_user is not None:
        if (
            not selectors.checked_for(conversation, sender_user)
            and not selectors.conversation_list(viewer=sender_user)
            .filter(pk=conversation.pk)
            .exists()
        ):
            raise PermissionDenied(_("You cannot write in this conversation."))
        if (
            conversation.kind == Kind.TRAINER
            and has_role(sender_user, Role.CLIENT)
            and not selectors.trainer_still_assigned(conversation=conversation)
        ):
            raise ValidationError(
                {
                    "conversation": [
                        _("This trainer no longer coaches you: write to the gym instead.")
                    ]
                }
            )
        return
    if sender_client is None:
        raise ValidationError({"sender": [_("A message needs a sender.")]})
    if not Participant.objects.filter(conversation=conversation, client=sender_client).exists():
        raise PermissionDenied(_("This client is not in this conversation."))


@transaction.atomic
def post_message(
    *,
    conversation: Conversation,
    sender_user: User | None = None,
    sender_client: Client | None = None,
    body: str = "",
    attachment: IO[bytes] | None = None,
    attachment_name: str = "",
    attachment_size: int | None = None,
    via: str = Via.APP,
) -> Message:
    """Post a message (text, an attachment, or both) as a user, or as a client without a login
    (an inbound SMS). A client's login posts as their client record too."""
    if via not in Via.values:
        raise ValidationError({"via": [_("Choose app or SMS.")]})
    _may_write(conversation, sender_user, sender_client)
    if sender_user is not None and has_role(sender_user, Role.CLIENT):
        sender_client = _own_client(conversation, sender_user)
    body = _check_body(body, has_attachment=attachment is not None)
    checked = None
    if attachment is not None:
        checked = check_attachment(
            attachment,
            name=attachment_name or getattr(attachment, "name", ""),
            size=attachment_size,
        )
    message = Message(
        conversation=conversation,
        sender_user=sender_user,
        sender_client=sender_client,
        body=body,
        via=via,
    )
    stored: list[str] = []
    try:
        if checked is not None:
            message.attachment_name = default_storage.save(
                _random_name(checked.extension), ContentFile(checked.content)
            )
            stored.append(message.attachment_name)
            if checked.thumbnail:
                message.attachment_thumbnail = default_storage.save(
                    _random_name(checked.extension, "-thumb"), ContentFile(checked.thumbnail)
                )
                stored.append(message.attachment_thumbnail)
            message.attachment_type = checked.content_type
            message.attachment_filename = checked.filename
            message.attachment_size = len(checked.content)
        message.save()
    except Exception:
        attachment_files_delete(schema_name=connection.schema_name, names=stored)
        raise
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message=message, last_message_at=message.created_at
    )
    conversation.last_message = message
    conversation.last_message_at = message.created_at
    # Whoever writes has read everything up to their own message.
    if sender_user is not None and not has_role(sender_user, Role.CLIENT):
        _advance_writer(conversation, message, user=sender_user)
    elif sender_client is not None:
        _advance_writer(conversation, message, client=sender_client)
    realtime.publish(conversation, {"type": "message.new", "message": message_data(message)})
    return message


def _own_client(conversation: Conversation, user: User) -> Client | None:
    """The client record a client's login writes as: in a one-to-one conversation the
    conversation's client (loaded with it), in a group looked up."""
    client = conversation.client if conversation.client_id else None
    if client is not None and client.user_id == user.pk:
        return client
    return Client.objects.filter(user=user).first()


def _advance(participant: Participant, message: Message) -> None:
    Participant.objects.filter(pk=participant.pk).update(
        last_read_message_id=Greatest(F("last_read_message_id"), message.pk),
        read_at=timezone.now(),
    )


def _advance_writer(
    conversation: Conversation,
    message: Message,
    *,
    user: User | None = None,
    client: Client | None = None,
) -> None:
    """Move the writer's read position to their message: one UPDATE of their participant row,
    made first when staff write in a conversation with the gym for the first time."""
    updated = Participant.objects.filter(
        conversation=conversation, user=user, client=client
    ).update(
        last_read_message_id=Greatest(F("last_read_message_id"), message.pk),
        read_at=timezone.now(),
    )
    if updated:
        return
    if user is not None:
        _advance(_user_participant(conversation, user), message)
    elif client is not None:
        _advance(_client_participant(conversation, client), message)


def _check_own_recent(actor: User, message: Message) -> None:
    if message.sender_user_id != actor.pk:
        raise PermissionDenied(_("You can only change your own messages."))
    if message.deleted_at is not None:
        raise ValidationError({"message": [_("This message was deleted.")]})
    if timezone.now() - message.created_at > edit_window():
        minutes = int(edit_window().total_seconds() // 60)
        raise ValidationError(
            {
                "message": [
                    _("Messages can be changed for %(minutes)s minutes after sending.")
                    % {"minutes": minutes}
                ]
            }
        )


@transaction.atomic
def message_edit(*, actor: User, message: Message, body: str) -> Message:
    """Change the text of one's own message within the edit window."""
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("conversation", "sender_user", "sender_client")
        .get(pk=message.pk)
    )
    _check_own_recent(actor, message)
    body = _check_body(body, has_attachment=bool(message.attachment_name))
    if body == message.body:
        return message
    message.body = body
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "edited_at"])
    audit_record(
        action="message.edited",
        actor=actor,
        obj=message,
        changes={"body": {"before": "***", "after": "***"}},
    )
    realtime.publish(
        message.conversation, {"type": "message.edited", "message": message_data(message)}
    )
    return message


@transaction.atomic
def message_delete(*, actor: User, message: Message) -> Message:
    """Delete one's own message within the edit window: its text and file go, a trace stays
    ("message deleted") so the conversation still reads in order."""
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("conversation", "sender_user", "sender_client")
        .get(pk=message.pk)
    )
    _check_own_recent(actor, message)
    names = [message.attachment_name, message.attachment_thumbnail]
    message.body = ""
    message.deleted_at = timezone.now()
    message.attachment_name = message.attachment_thumbnail = ""
    message.attachment_type = message.attachment_filename = ""
    message.attachment_size = 0
    message.save()
    if any(names):
        transaction.on_commit(
            partial(attachment_files_delete, schema_name=connection.schema_name, names=names)
        )
    audit_record(
        action="message.deleted",
        actor=actor,
        obj=message,
        changes={"conversation": {"before": message.conversation_id, "after": None}},
    )
    realtime.publish(
        message.conversation, {"type": "message.deleted", "message": message_data(message)}
    )
    return message


@transaction.atomic
def mark_read(*, viewer: User, conversation: Conversation, up_to: int | None = None) -> Participant:
    """`viewer` has read `conversation` up to message `up_to` (its last message when None). A
    read position only moves forward; others see it as a read receipt."""
    last = conversation.last_message_id or 0
    position = last if up_to is None else min(up_to, last)
    if up_to is not None and up_to < 0:
        raise ValidationError({"message": [_("Name a message of this conversation.")]})
    participant = _own_participant(viewer, conversation)
    if position <= participant.last_read_message_id:
        return participant
    participant.last_read_message_id = position
    participant.read_at = timezone.now()
    participant.save(update_fields=["last_read_message_id", "read_at"])
    realtime.publish(
        conversation,
        {
            "type": "read",
            "conversation": conversation.pk,
            "reader": reader_data(participant),
            "last_read_message_id": position,
            "read_at": participant.read_at.isoformat().replace("+00:00", "Z"),
        },
    )
    return participant


# --- Unread reminders -----------------------------------------------------------------------


def _first_unread(participant: Participant, *, before: datetime) -> Message | None:
    """The first message of the participant's unread streak (after their read position, not
    theirs, not deleted), if it was sent before `before`."""
    conversation = participant.conversation
    messages = Message.objects.filter(
        conversation=conversation,
        id__gt=participant.last_read_message_id,
        deleted_at__isnull=True,
    ).select_related("sender_user", "sender_client")
    if participant.client_id:
        messages = messages.exclude(sender_client_id=participant.client_id)
        if participant.client.user_id:  # type: ignore[union-attr]
            messages = messages.exclude(sender_user_id=participant.client.user_id)  # type: ignore[union-attr]
    else:
        messages = messages.exclude(sender_user_id=participant.user_id)
        if conversation.kind == Kind.GYM:
            messages = messages.filter(sender_client__isnull=False)
    first = messages.order_by("id").first()
    if first is None or first.created_at > before:
        return None
    return first


def _reminder_url(participant: Participant) -> str:
    from django.urls import reverse

    if participant.client_id:
        return reverse("portal:messaging_thread", args=[participant.conversation_id])
    return reverse("messaging:thread", args=[participant.conversation_id])


@transaction.atomic
def unread_reminders_send(*, now: datetime | None = None) -> int:
    """Tell each person who has left a message unread for MESSAGE_NOTIFY_AFTER_MINUTES, once
    per unread streak (however many messages it holds, and however often this runs): the
    event names the streak's first message, and the participant row remembers it was told
    until they read. Muted participants are not told; staff are told about a client's
    conversation with the gym once they have taken part in it. Returns how many were told."""
    from apps.notifications.services import notify

    now = now or timezone.now()
    before = now - notify_after()
    candidates = (
        Participant.objects.filter(
            muted=False,
            conversation__last_message_at__lte=now,
            conversation__last_message_at__gt=now - REMINDER_LOOKBACK,
            conversation__last_message_id__gt=F("last_read_message_id"),
            # Not told yet in this streak (telling moves notified past the read position).
            notified_message_id__lte=F("last_read_message_id"),
        )
        .select_related("conversation", "user", "client__user")
        .select_for_update(of=("self",), skip_locked=True)
    )
    told = 0
    for participant in candidates:
        user = participant.user or (participant.client.user if participant.client else None)  # type: ignore[union-attr]
        if user is not None and not user.is_active:
            continue
        conversation = participant.conversation
        if (
            participant.user_id
            and conversation.kind == Kind.TRAINER
            and not selectors.trainer_still_assigned(conversation=conversation)
        ):
            continue
        first = _first_unread(participant, before=before)
        if first is None:
            continue
        notify(
            kind="new_message",
            recipient=participant.user or participant.client,
            context={
                "sender_name": sender_name(first),
                "preview": (first.body[:PREVIEW_LENGTH] if first.body else _("An attachment")),
            },
            event_key=f"message-unread:{conversation.pk}:{first.pk}",
            url=_reminder_url(participant),
        )
        Participant.objects.filter(pk=participant.pk).update(
            notified_message_id=conversation.last_message_id or first.pk
        )
        told += 1
    return told
