"""The audit log: one append-only table per gym schema (and one in public for the platform).

The database refuses UPDATE, DELETE and TRUNCATE on it (a trigger, see migration 0002), so no
code path of the app, the admin included, can rewrite history.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

USER_AGENT_MAX_LENGTH = 512
# What erasure may put in place of an actor's email; the database trigger allows this value
# (or "") and nothing else (see migration 0002).
ERASED_ACTOR_EMAIL = "erased"


class AuditEvent(models.Model):
    # The actor's email and role are copied: the event must still say who acted after the user
    # is deleted (the link goes NULL) or anonymised.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # indexed in Meta.indexes, with a stable name
    )
    actor_email = models.CharField(_("actor email"), max_length=254, blank=True)
    actor_role = models.CharField(_("actor role"), max_length=20, blank=True)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=USER_AGENT_MAX_LENGTH, blank=True)
    request_id = models.CharField(_("request id"), max_length=128, blank=True)
    # timezone.now in Python (the instance knows its time without a refetch); the database
    # default covers rows written by SQL.
    created_at = models.DateTimeField(
        _("time (UTC)"), default=timezone.now, db_default=Now(), editable=False
    )

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["created_at"], name="audit_event_created_at"),
            models.Index(fields=["action"], name="audit_event_action"),
            models.Index(fields=["object_type", "object_id"], name="audit_event_object"),
            models.Index(fields=["actor"], name="audit_event_actor"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(action=""), name="audit_event_has_action"),
        ]

    def __str__(self) -> str:
        who = self.actor_email or _("system")
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {who} {self.action}"
