from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The client portal on a gym's host: pages only, the data lives in apps.crm."""

    name = "apps.portal"
    label = "portal"
    verbose_name = "Client portal"
