from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmsConfig(AppConfig):
    """Two-way SMS through Twilio: each gym's Messaging Service, the gateway every app sends
    through, and Twilio's signed callbacks. Public schema only: the one table maps a Messaging
    Service to its gym, which is how a callback on the public host finds its gym; what an SMS
    changes in a gym (deliveries, suppressions, conversations) lives in that gym's own apps."""

    name = "apps.sms"
    label = "sms"
    verbose_name = _("SMS")

    def ready(self) -> None:
        from apps.sms import signals  # noqa: F401
