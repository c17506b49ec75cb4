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
