from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "apps.crm"
    label = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from apps.crm import (
            personal_data,  # noqa: F401  (registers the CRM's personal data)
            signals,
        )

        signals.connect()
