from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatformBillingConfig(AppConfig):
    """The platform billing its gyms through its own Stripe account (dj-stripe's, in public).
    Public schema only: one subscription row per gym, read on every request of that gym's host."""

    name = "apps.platform_billing"
    label = "platform_billing"
    verbose_name = _("Platform billing")

    def ready(self) -> None:
        from apps.platform_billing import receivers  # noqa: F401
