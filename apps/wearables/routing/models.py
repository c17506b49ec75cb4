"""The public lookup that routes wearable providers' webhooks: (provider, provider user id) ->
gym and the connection there."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WearableAccount(models.Model):
    """One provider account connected in one gym. A person who is a member of two gyms may
    connect the same Strava athlete in both: an event then reaches both gyms, each only with
    its own connection."""

    provider = models.CharField(_("provider"), max_length=16)
    provider_user_id = models.CharField(_("provider user id"), max_length=64)
    gym = models.ForeignKey("tenants.Gym", on_delete=models.CASCADE, related_name="+")
    # The wearables.Connection's id in that gym's schema (no FK across schemas).
    connection_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("wearable account")
        verbose_name_plural = _("wearable accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_user_id", "gym"], name="wearables_account_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.provider_user_id}"
