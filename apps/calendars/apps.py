from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "apps.calendars"
    label = "calendars"
    verbose_name = "Calendars"

    def ready(self) -> None:
        from apps.calendars import personal_data  # noqa: F401  (registers personal data)
