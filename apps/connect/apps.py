from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectConfig(AppConfig):
    """Gyms' Stripe connected accounts and the webhook inbox. Public schema only: this is the
    lookup that routes a Stripe event (by its `account`) to the gym it belongs to."""

    name = "apps.connect"
    label = "connect"
    verbose_name = _("Stripe Connect")
