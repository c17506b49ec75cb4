from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationsConfig(AppConfig):
    """Rules a gym sets up ("when TRIGGER, if CONDITIONS, then ACTIONS with delays"), their run
    log, and the staff to-do list their follow-up tasks land on. Gym-schema only."""

    name = "apps.automations"
    label = "automations"
    verbose_name = _("Automations")
