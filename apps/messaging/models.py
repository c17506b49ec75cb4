"""Conversations between clients and the gym's people, and their messages. Tables live in each
gym's schema, so they are kept to three, with one index each beyond their primary keys
(docs/architecture.md, "Footprint per gym").

Who may read a conversation is a rule in apps.messaging.selectors, not only its participants:
a client's conversation with the gym (`Kind.GYM`) is open to every owner, manager and front desk
member, who get a participant row only once they read or write there (to keep where they read
to); a conversation with a trainer is the trainer's only while the client is assigned to them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    # A client and the gym's front desk and management: one per client.
    GYM = "gym", _("With the gym")
    # A client and one of their trainers: one per client and trainer.
    TRAINER = "trainer", _("With a trainer")
    # Groups: explicit participants.
    CLASS = "class", _("Class group")
    TEAM = "team", _("Team group")
    STAFF = "staff", _("Staff only")


ONE_TO_ONE_KINDS = (Kind.GYM, Kind.TRAINER)
GROUP_KINDS = (Kind.CLASS, Kind.TEAM, Kind.STAFF)


class Via(models.TextChoices):
    APP = "app", _("App")
    SMS = "sms", _("SMS")


class Conversation(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120, blank=True)
    # The client a one-to-one conversation is with (null for groups).
    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversations",
        # The unique index below starts with the client.
        db_index=False,
    )
    # The trainer's user of a `trainer` conversation.
    trainer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("trainer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        # Users are deactivated, not deleted: no index for a delete that does not happen.
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The newest message, kept by apps.messaging.services.post_message: inbox order, previews,
    # and "is there anything unread" without reading the messages.
    last_message = models.ForeignKey(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            # One conversation with the gym per client (trainer NULL), one per client and
            # trainer; groups have neither. NULLS NOT DISTINCT makes (client, NULL) unique.
            models.UniqueConstraint(
                fields=["client", "trainer"],
                condition=Q(kind__in=ONE_TO_ONE_KINDS),
                nulls_distinct=False,
                name="messaging_conversation_one_per_pair",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=Kind.values), name="messaging_conversation_kind_known"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind=Kind.GYM, client__isnull=False, trainer__isnull=True)
                    | Q(kind=Kind.TRAINER, client__isnull=False, trainer__isnull=False)
                    | Q(kind__in=GROUP_KINDS, client__isnull=True, trainer__isnull=True)
                ),
                name="messaging_conversation_kind_shape",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} #{self.pk}"


class Participant(models.Model):
    """Someone in a conversation: a user (staff, or a client with a login) or a client without
    a login (an SMS-only client), never both. Holds where they have read to."""

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="participants",
        # The unique index below starts with the conversation.
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    client = models.ForeignKey(
        "crm.Client",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    # Everything up to this message id is read (ids grow with time in a conversation).
    last_read_message_id = models.BigIntegerField(default=0)
    read_at = models.DateTimeField(null=True, blank=True)
    # The message the unread reminder was sent for: one reminder per unread streak.
    notified_message_id = models.BigIntegerField(default=0)
    muted = models.BooleanField(_("muted"), default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "user", "client"],
                nulls_distinct=False,
                name="messaging_participant_once",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=True, client__isnull=False)
                | Q(user__isnull=False, client__isnull=True),
                name="messaging_participant_user_or_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.user_id or self.client_id}"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        # The (conversation, id) index below serves the foreign key too.
        db_index=False,
    )
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    sender_client = models.ForeignKey(
        "crm.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # A client's erasure deletes their one-to-one conversations (cascade); a scan of the
        # messages for their group messages is rare enough not to cost every gym an index.
        db_index=False,
    )
    body = models.TextField(_("message"), blank=True)
    via = models.CharField(_("sent via"), max_length=5, choices=Via.choices, default=Via.APP)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Names in default_storage (the gym's own prefix), served only through a view that checks
    # the viewer may read the conversation (apps.messaging.views.attachment_file).
    attachment_name = models.CharField(max_length=255, blank=True, editable=False)
    attachment_thumbnail = models.CharField(max_length=255, blank=True, editable=False)
    attachment_type = models.CharField(max_length=40, blank=True, editable=False)
    attachment_filename = models.CharField(max_length=120, blank=True, editable=False)
    attachment_size = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ("id",)
        indexes = [models.Index(fields=["conversation", "id"], name="messaging_msg_conv_id")]
        constraints = [
            models.CheckConstraint(
                condition=Q(via__in=Via.values), name="messaging_message_via_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.pk}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def has_attachment(self) -> bool:
        return bool(self.attachment_name)

    @property
    def is_image(self) -> bool:
        return self.attachment_type.startswith("image/")
