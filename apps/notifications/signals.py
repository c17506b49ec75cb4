"""Email providers' tracking webhooks (anymail's views on the public host) routed to the gym
that sent the message: each message carries its gym's schema and delivery id as metadata
(apps/notifications/email.py), which the provider sends back with every event."""

from __future__ import annotations

import logging
from typing import Any

from anymail.signals import tracking
from django.dispatch import receiver
from django_tenants.utils import tenant_context

logger = logging.getLogger(__name__)


@receiver(tracking, dispatch_uid="notifications.email_tracking")
def email_tracking_received(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    from apps.notifications.services import email_event_record
    from apps.tenants.models import Gym

    schema = str((event.metadata or {}).get("schema", ""))
    gym = Gym.objects.filter(schema_name=schema).first() if schema else None
    if gym is None or schema == "public":
        logger.info("Email event %s without a known gym (%r): ignored", event.event_type, schema)
        return
    with tenant_context(gym):
        email_event_record(esp_name=esp_name, event=event)
