"""Reads of the public Messaging Service lookup, and of the clients an SMS number belongs to."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.sms.models import GymMessagingService
from apps.tenants.models import Gym


def messaging_service_for_gym(*, gym: Gym) -> GymMessagingService | None:
    """The gym's Messaging Service, if it configured one."""
    return GymMessagingService.objects.filter(gym=gym).first()


def gym_for_messaging_service(*, service_sid: str) -> Gym | None:
    """The gym a Twilio callback belongs to, by the Messaging Service it names: a service is
    one gym's only, so nothing Twilio says about one gym's texts reaches another gym."""
    if not service_sid:
        return None
    row = GymMessagingService.objects.select_related("gym").filter(service_sid=service_sid).first()
    return row.gym if row is not None else None


def clients_with_phone(*, phone: str) -> QuerySet:
    """The current gym's clients whose number is `phone` (E.164, as the CRM stores numbers),
    the most recently changed first."""
    from apps.crm.models import Client

    return Client.objects.filter(phone=phone).order_by("-updated_at", "-pk")
