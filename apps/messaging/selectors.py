"""Reads with rules: who may read which conversation, and what is unread.

- owner, manager, front desk: every client's conversation with the gym (the shared inbox);
- a trainer: their conversations with the clients assigned to them now (apps.crm.selectors'
  rule, so the two apps never disagree about a trainer's clients);
- staff: the groups they are in;
- a client: the conversations they take part in, and nothing else.

A message counts as unread for a person when it came after their read position, is not
deleted, is not their own and was sent after they joined the gym. In a conversation with the
gym, staff count only what the client wrote: a colleague's answer is not news to the inbox.
"""

from __future__ import annotations

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_staff_member
from apps.crm.models import Assignment, Client
from apps.crm.selectors import client_list
from apps.messaging.models import (
    GROUP_KINDS,
    ONE_TO_ONE_KINDS,
    Conversation,
    Kind,
    Message,
    Participant,
)

# Who answers the clients' conversations with the gym.
INBOX_ROLES = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK)


def is_inbox_member(user: User) -> bool:
    return has_role(user, *INBOX_ROLES)


def participant_filter(viewer: User) -> Q:
    """The viewer's own participant rows: a client is in conversations as their client record
    (which also covers their SMS), staff as their user."""
    if has_role(viewer, Role.CLIENT):
        return Q(client__user=viewer)
    return Q(user=viewer)


def conversation_list(*, viewer: User) -> QuerySet[Conversation]:
    """The conversations `viewer` may read and write in."""
    mine = Exists(
        Participant.objects.filter(participant_filter(viewer), conversation=OuterRef("pk"))
    )
    if has_role(viewer, Role.CLIENT):
        return Conversation.objects.filter(mine)
    if not is_staff_member(viewer):
        return Conversation.objects.none()
    rule = Q(kind__in=GROUP_KINDS) & Q(mine)
    if is_inbox_member(viewer):
        rule |= Q(kind=Kind.GYM)
    reachable = client_list(viewer=viewer, prefetch_trainers=False).order_by().values("pk")
    rule |= Q(kind=Kind.TRAINER, trainer=viewer, client__in=reachable)
    return Conversation.objects.filter(rule)


# Set on a conversation by conversation_get: the user it was read for. Reading and writing
# follow one rule, so a service handed this conversation by the same user needs no second
# permission query.
CHECKED_FOR = "_messaging_checked_for"


def _trainer_assigned() -> Exists:
    """Whether the outer conversation's trainer still coaches its client (false for every
    conversation that is not with a trainer)."""
    return Exists(
        Assignment.objects.filter(
            client_id=OuterRef("client_id"),
            trainer__user_id=OuterRef("trainer_id"),
            ends_on__isnull=True,
        )
    )


def conversation_get(*, viewer: User, pk: int) -> Conversation:
    """One conversation `viewer` may read, or Conversation.DoesNotExist (a 404 whatever the
    reason: never reveal that it exists). It carries whether its trainer still coaches the
    client (trainer_still_assigned), read in the same statement."""
    conversation = (
        conversation_list(viewer=viewer)
        .select_related("client", "trainer")
        .annotate(trainer_assigned=_trainer_assigned())
        .get(pk=pk)
    )
    setattr(conversation, CHECKED_FOR, viewer.pk)
    return conversation


def checked_for(conversation: Conversation, user: User) -> bool:
    """Whether `conversation` came from conversation_get for `user` (who may write in it)."""
    return getattr(conversation, CHECKED_FOR, None) == user.pk


def _own_read_position(viewer: User) -> Subquery:
    return Subquery(
        Participant.objects.filter(participant_filter(viewer), conversation=OuterRef("pk")).values(
            "last_read_message_id"
        )[:1],
        output_field=IntegerField(),
    )


def unread_messages(*, viewer: User, read_position: object) -> QuerySet[Message]:
    """Messages of the outer conversation that are unread for `viewer` past `read_position`
    (an expression: the viewer's participant row's last_read_message_id, or 0)."""
    messages = Message.objects.filter(
        conversation=OuterRef("pk"),
        id__gt=read_position,
        deleted_at__isnull=True,
        created_at__gt=viewer.date_joined,
    )
    if has_role(viewer, Role.CLIENT):
        return messages.exclude(Q(sender_client__user=viewer) | Q(sender_user=viewer))
    return messages.exclude(sender_user=viewer).filter(
        Q(sender_client__isnull=False) | ~Q(conversation__kind=Kind.GYM)
    )


def with_unread(conversations: QuerySet[Conversation], *, viewer: User) -> QuerySet[Conversation]:
    """`conversations` annotated with `read_position` and `unread_count` (one statement; the
    count's subquery walks the (conversation, id) index from the read position on)."""
    conversations = conversations.annotate(read_position=Coalesce(_own_read_position(viewer), 0))
    unread = (
        unread_messages(viewer=viewer, read_position=OuterRef("read_position"))
        .order_by()
        .values("conversation")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return conversations.annotate(
        unread_count=Coalesce(Subquery(unread, output_field=IntegerField()), 0)
    )


def inbox(*, viewer: User) -> QuerySet[Conversation]:
    """The viewer's conversations for an inbox: newest message first (those without a message
    last), with the last message, the client and the unread count."""
    conversations = conversation_list(viewer=viewer).select_related(
        "client",
        "trainer",
        "last_message",
        "last_message__sender_user",
        "last_message__sender_client",
    )
    return with_unread(conversations, viewer=viewer).order_by(
        F("last_message_at").desc(nulls_last=True), "-pk"
    )


def unread_conversation_count(*, viewer: User) -> int:
    """How many of the viewer's conversations have something unread (the navigation's badge)."""
    if not viewer.is_authenticated:
        return 0
    conversations = (
        conversation_list(viewer=viewer)
        .annotate(read_position=Coalesce(_own_read_position(viewer), 0))
        # A cheap test first: only conversations whose last message is past the read position
        # can hold anything unread.
        .filter(last_message_id__gt=F("read_position"))
    )
    unread = unread_messages(viewer=viewer, read_position=OuterRef("read_position"))
    return conversations.filter(Exists(unread)).count()


def message_list(*, viewer: User, conversation: Conversation) -> QuerySet[Message]:
    """The messages of a conversation `viewer` may read (deleted ones stay as a trace), with
    their senders; the caller has got the conversation through conversation_get."""
    return Message.objects.filter(conversation=conversation).select_related(
        "sender_user", "sender_client"
    )


def message_get(*, viewer: User, pk: int) -> Message:
    """One message of a conversation `viewer` may read, or Message.DoesNotExist."""
    return (
        Message.objects.filter(conversation__in=conversation_list(viewer=viewer).values("pk"))
        .select_related("conversation", "sender_user", "sender_client")
        .get(pk=pk)
    )


def participant_for(*, viewer: User, conversation: Conversation) -> Participant | None:
    return Participant.objects.filter(participant_filter(viewer), conversation=conversation).first()


def read_positions(*, conversation: Conversation) -> list[Participant]:
    """Everyone's read position in `conversation` (read receipts)."""
    return list(
        Participant.objects.filter(conversation=conversation).select_related("user", "client")
    )


def trainer_still_assigned(*, conversation: Conversation) -> bool:
    # conversation_get has read it with the conversation; otherwise ask.
    known = getattr(conversation, "trainer_assigned", None)
    if known is not None:
        return bool(known)
    return Assignment.objects.filter(
        client_id=conversation.client_id,
        trainer__user_id=conversation.trainer_id,
        ends_on__isnull=True,
    ).exists()


def audience_user_ids(*, conversation: Conversation) -> set[int]:
    """The users who may read `conversation` by name (participants with a login, the client's
    login). In a conversation with the gym, owners, managers and front desk are reached through
    the inbox group instead (apps.messaging.realtime), so not here: one delivery each.

    A one-to-one conversation's readers follow from the conversation itself (conversation_get
    reads its client and whether its trainer still coaches them with it), so announcing a
    message there reads no participant rows: the client's login, and the trainer while
    assigned. Only a group's members are read."""
    ids: set[int] = set()
    if conversation.kind in ONE_TO_ONE_KINDS:
        client_user_id = conversation.client.user_id  # type: ignore[union-attr]
        if client_user_id:
            ids.add(client_user_id)
        if conversation.kind == Kind.TRAINER and trainer_still_assigned(conversation=conversation):
            ids.add(conversation.trainer_id)  # type: ignore[arg-type]
        return ids
    rows = Participant.objects.filter(conversation=conversation).values_list(
        "user_id", "client__user_id"
    )
    for user_id, client_user_id in rows:
        if user_id or client_user_id:  # a client without a login has no socket
            ids.add(user_id or client_user_id)
    return ids


def messageable_clients(*, viewer: User, search: str = "") -> QuerySet[Client]:
    """The clients `viewer` may start a conversation with (whom they may see)."""
    if not is_staff_member(viewer):
        return Client.objects.none()
    return client_list(viewer=viewer, search=search, prefetch_trainers=False)


def client_trainers(*, client: Client) -> QuerySet[User]:
    """The users of `client`'s current trainers: whom the client may message."""
    return User.objects.filter(
        is_active=True,
        trainer_profile__assignments__client=client,
        trainer_profile__assignments__ends_on__isnull=True,
    ).distinct()


# --- Starting a group from the staff pages --------------------------------------------------

# The classes a group can be made from: recent ones (to follow up) and coming ones.
GROUP_CLASS_DAYS_BACK, GROUP_CLASS_DAYS_AHEAD = 7, 14


def group_classes(*, viewer: User) -> QuerySet:
    """Classes whose attendees `viewer` may gather in a group: from a week ago to two weeks
    ahead, not cancelled; a trainer only the classes they teach."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.scheduling.models import ClassOccurrence

    if not is_staff_member(viewer):
        return ClassOccurrence.objects.none()
    now = timezone.now()
    rows = ClassOccurrence.objects.filter(
        is_cancelled=False,
        starts_at__gte=now - timedelta(days=GROUP_CLASS_DAYS_BACK),
        starts_at__lte=now + timedelta(days=GROUP_CLASS_DAYS_AHEAD),
    )
    if has_role(viewer, Role.TRAINER):
        rows = rows.filter(trainer__user=viewer)
    return rows.select_related("class_type").order_by("starts_at", "pk")


def group_class_clients(*, viewer: User, occurrence_id: int) -> QuerySet[Client]:
    """The booked (or attended) clients of a class `viewer` may gather, among those they may
    message: a trainer's own clients only."""
    from apps.scheduling.models import SPOT_STATUSES, ClassBooking

    booked = ClassBooking.objects.filter(
        occurrence_id=occurrence_id,
        occurrence__in=group_classes(viewer=viewer).values("pk"),
        status__in=SPOT_STATUSES,
    ).values("client_id")
    return messageable_clients(viewer=viewer).filter(pk__in=booked)


def group_tags(*, viewer: User) -> list[str]:
    """The tags of the clients `viewer` may message, each once, in order."""
    from django.db.models import Func

    return list(
        messageable_clients(viewer=viewer)
        .annotate(tag=Func(F("tags"), function="unnest"))
        .values_list("tag", flat=True)
        .order_by("tag")
        .distinct()
    )


def group_tag_clients(*, viewer: User, tag: str) -> QuerySet[Client]:
    """The clients with `tag` that `viewer` may message."""
    return messageable_clients(viewer=viewer).filter(tags__contains=[tag])


def group_colleagues(*, viewer: User) -> QuerySet[User]:
    """The staff `viewer` may add to a group (everyone on the staff but themselves)."""
    return (
        User.objects.filter(
            is_active=True,
            role__in=(Role.OWNER, Role.MANAGER, Role.TRAINER, Role.FRONT_DESK),
        )
        .exclude(pk=viewer.pk)
        .order_by("first_name", "last_name", "pk")
    )
