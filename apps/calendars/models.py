from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarFeed(models.Model):
    """A user's private ICS feed. Only the SHA-256 of the token is stored: a leaked database
    does not leak working feed URLs."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"calendar feed of user {self.user_id}"


class ReminderSent(models.Model):
    """One reminder of one kind for one appointment. The unique constraint is what makes a
    reminder go out exactly once even when the task runs twice or concurrently."""

    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.CASCADE, related_name="reminders_sent"
    )
    kind = models.CharField(_("kind"), max_length=16)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind"], name="calendars_reminder_once_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder for appointment {self.appointment_id}"
