from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "apps.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from apps.messaging import personal_data  # noqa: F401
