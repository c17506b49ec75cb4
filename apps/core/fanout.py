from __future__ import annotations

from typing import Any

from django_tenants.utils import tenant_context

from apps.tenants.selectors import active_gym_list


def fan_out(task_name: str, *args: Any, **kwargs: Any) -> int:
    """Send the named task once per active gym, each inside that gym's schema (a deactivated
    gym gets none: its hosts answer nothing, and nobody is there to act on what a task does).

    tenant_schemas_celery stamps the schema of the sending context on the message, so each copy
    runs in its own gym. Returns how many tasks were sent.
    """
    from fitnesscrm.celery import app

    sent = 0
    for gym in active_gym_list().only("pk", "schema_name").iterator():
        with tenant_context(gym):
            app.signature(task_name, args=args, kwargs=kwargs).apply_async()
        sent += 1
    return sent
