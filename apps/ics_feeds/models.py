from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
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
    """One reminder of one kind for one appointment or one class booking. The unique
    constraints are what make a reminder go out exactly once even when the task runs twice or
    concurrently."""

    appointment = models.ForeignKey(
        "scheduling.Appointment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders_sent",
    )
    class_booking = models.ForeignKey(
        "scheduling.ClassBooking",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders_sent",
    )
    kind = models.CharField(_("kind"), max_length=16)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind"], name="calendars_reminder_once_per_kind"
            ),
            models.UniqueConstraint(
                fields=["class_booking", "kind"], name="calendars_class_reminder_once_per_kind"
            ),
            # About exactly one thing: an appointment or a class booking.
            models.CheckConstraint(
                condition=Q(appointment__isnull=False, class_booking__isnull=True)
                | Q(appointment__isnull=True, class_booking__isnull=False),
                name="calendars_reminder_one_subject",
            ),
        ]

    def __str__(self) -> str:
        if self.class_booking_id:
            return f"{self.kind} reminder for class booking {self.class_booking_id}"
        return f"{self.kind} reminder for appointment {self.appointment_id}"
