from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The staff home page on a gym's host: pages only, the data lives in the other apps."""

    name = "apps.dashboard"
    label = "dashboard"
    verbose_name = "Staff dashboard"
