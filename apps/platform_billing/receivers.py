"""A new gym starts its trial with the platform (sign-up, the admin, `create_gym`)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.tenants.models import Gym


@receiver(post_save, sender=Gym, dispatch_uid="platform_billing_trial")
def _trial_on_gym_created(sender: type[Gym], instance: Gym, created: bool, **kwargs: Any) -> None:
    if not created or instance.schema_name in ("public", "gym_template"):
        return
    from apps.platform_billing.services import trial_start

    trial_start(gym=instance)


def _from_djstripe(sender: Any, event: Any, **kwargs: Any) -> None:
    """dj-stripe's own webhook endpoint, if the operator points the platform account at it:
    the same events, applied the same way (a connected account's event names its `account`
    and is left alone)."""
    from apps.platform_billing.services import platform_event_apply

    raw = dict(getattr(event, "stripe_data", None) or {})
    created = getattr(event, "created", None)
    platform_event_apply(
        event={
            "id": event.id,
            "type": event.type,
            "account": raw.get("account") or "",
            "created": int(created.timestamp()) if created else raw.get("created"),
            "data": event.data or raw.get("data") or {},
        }
    )


def _connect_djstripe_signals() -> None:
    from djstripe.signals import WEBHOOK_SIGNALS

    from apps.platform_billing.services import SUBSCRIPTION_EVENTS

    for event_type in SUBSCRIPTION_EVENTS:
        signal = WEBHOOK_SIGNALS.get(event_type)
        if signal is not None:
            signal.connect(_from_djstripe, dispatch_uid=f"platform_billing:{event_type}")


_connect_djstripe_signals()
