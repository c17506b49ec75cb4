"""The public lookup that routes Twilio's callbacks: which gym owns which Messaging Service."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MESSAGING_SERVICE_SID_PATTERN = r"^MG[0-9a-f]{32}$"


class GymMessagingService(models.Model):
    """A gym's Twilio Messaging Service, under the platform's Twilio account. Inbound messages
    and status callbacks name the service (`MessagingServiceSid`), so a service belongs to one
    gym only."""

    gym = models.OneToOneField(
        "tenants.Gym", on_delete=models.CASCADE, related_name="sms_messaging_service"
    )
    service_sid = models.CharField(
        _("Messaging Service SID"),
        max_length=34,
        unique=True,
        validators=[
            RegexValidator(
                MESSAGING_SERVICE_SID_PATTERN,
                _("A Messaging Service SID is MG followed by 32 letters and digits (0-9, a-f)."),
            )
        ],
    )
    # Optional: a number of the service's sender pool to send from; empty lets Twilio choose.
    sender_number = models.CharField(_("sender number"), max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_inbound_at = models.DateTimeField(_("last message received"), null=True, blank=True)
    last_status_at = models.DateTimeField(_("last delivery report"), null=True, blank=True)

    class Meta:
        verbose_name = _("gym Messaging Service")
        verbose_name_plural = _("gym Messaging Services")
        constraints = [
            models.CheckConstraint(
                condition=Q(service_sid__regex=MESSAGING_SERVICE_SID_PATTERN),
                name="sms_service_sid_format",
            ),
            models.CheckConstraint(
                condition=Q(sender_number="") | Q(sender_number__regex=r"^\+[1-9][0-9]{5,14}$"),
                name="sms_sender_number_e164",
            ),
        ]

    def __str__(self) -> str:
        return self.service_sid
