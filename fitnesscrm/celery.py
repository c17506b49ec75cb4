"""The Celery app. It comes from tenant_schemas_celery, so a task sent inside a gym's schema
runs in that gym's schema on the worker."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitnesscrm.settings.local")

app = CeleryApp("fitnesscrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
