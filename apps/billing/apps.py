from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """A gym's own billing: its Stripe connected account, catalogue, memberships and payments.
    Gym-schema only; the platform's own Stripe account (dj-stripe) lives in public."""

    name = "apps.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from apps.billing import personal_data  # noqa: F401  (registers personal data)
