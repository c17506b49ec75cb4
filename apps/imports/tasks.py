"""Imports run in a worker: a file of thousands of clients takes longer than a web request."""

from __future__ import annotations

import random

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _

from apps.imports.services import import_job_fail, import_job_run, import_jobs_fail_stuck

MAX_RETRIES = 3


@shared_task(bind=True, name="imports.run_job", acks_late=True, max_retries=MAX_RETRIES)
def import_job_run_task(self, job_id: int) -> str:  # type: ignore[no-untyped-def]
    """Run one import job (sent, in the gym's schema, when the job is started)."""
    try:
        return import_job_run(job_id=job_id).status
    except (OperationalError, InterfaceError) as exc:
        # The database went away: nothing was imported (one transaction), so try again later.
        if self.request.retries >= MAX_RETRIES:
            import_job_fail(
                job_id=job_id, message=_("The database was unavailable. Nothing was imported.")
            )
            raise
        countdown = 2**self.request.retries * 10 + random.uniform(0, 5)  # noqa: S311
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="imports.fail_stuck_jobs", acks_late=True)
def fail_stuck_import_jobs() -> int:
    """Per gym (sent by core.fan_out_to_gyms in the gym's schema): imports whose task was lost
    are marked failed, so their page stops waiting and offers to run them again."""
    return import_jobs_fail_stuck()
