from django.apps import AppConfig


class IcsFeedsConfig(AppConfig):
    """Each user's private ICS feed of their sessions and classes, and the e-mail reminders
    before them. The label stays "calendars", the app's name before it moved here: its
    migrations, tables, task names and URL namespace keep that name."""

    name = "apps.ics_feeds"
    label = "calendars"
    verbose_name = "Calendar feeds and reminders"

    def ready(self) -> None:
        from apps.ics_feeds import personal_data  # noqa: F401  (registers personal data)
