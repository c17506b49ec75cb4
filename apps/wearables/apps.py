from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WearablesConfig(AppConfig):
    """Clients' watches, apps and food diaries (Strava first): their connections and one data
    model for every provider. Gym schemas only; the public lookup that routes providers'
    callbacks to a gym is apps.wearables.routing."""

    name = "apps.wearables"
    label = "wearables"
    verbose_name = _("Wearables")

    def ready(self) -> None:
        from apps.wearables import personal_data, signals  # noqa: F401
