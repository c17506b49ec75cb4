from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WearablesRoutingConfig(AppConfig):
    """Public schema only: which gym (and which connection there) a provider's user id belongs
    to, so a webhook on the public host reaches the right gym (like apps.sms and apps.connect)."""

    name = "apps.wearables.routing"
    label = "wearables_routing"
    verbose_name = _("Wearable accounts")
