"""Reads of imports: which jobs a person may see, a job's progress while it runs."""

from __future__ import annotations

from itertools import islice
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.imports.models import ImportJob, ImportJobStatus
from apps.imports.reading import csv_records, csv_text

# Who imports clients: management and front desk (they add clients every day). Trainers add
# clients one by one; a bulk import of people they would not coach is not theirs to make.
IMPORT_ROLES = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK)
PROGRESS_CACHE_SECONDS = 6 * 60 * 60


def import_job_list(*, viewer: User) -> QuerySet[ImportJob]:
    """Owners and managers see every import of the gym; front desk their own."""
    jobs = ImportJob.objects.select_related("created_by")
    if is_management(viewer):
        return jobs
    if has_role(viewer, Role.FRONT_DESK):
        return jobs.filter(created_by=viewer)
    raise PermissionDenied(_("Your role cannot import clients."))


def import_job_get(*, viewer: User, pk: int) -> ImportJob:
    """One job the viewer may see, or ImportJob.DoesNotExist (a 404: never reveal it exists)."""
    return import_job_list(viewer=viewer).get(pk=pk)


def import_progress_cache_key(job_id: int) -> str:
    # The cache's key function adds the gym's schema, so job 7 of one gym is not job 7 of another.
    return f"imports:job:{job_id}:progress"


def import_job_progress(*, job: ImportJob) -> dict[str, Any]:
    """How far the job is: {"progress": 0..100, "processed": rows done, "total": rows}.

    While the import runs, its rows and its job row are in one uncommitted transaction, so the
    worker reports progress through the cache (Redis in production), which this reads; once
    the job is finished, the job row is the truth."""
    state = {"progress": job.progress, "processed": None, "total": job.total_rows}
    if job.status == ImportJobStatus.RUNNING:
        cached = cache.get(import_progress_cache_key(job.pk))
        if isinstance(cached, dict):
            state.update(cached)
    elif job.status == ImportJobStatus.DONE:
        state.update(progress=100, processed=job.total_rows)
    return state


def import_job_text(job: ImportJob) -> str:
    """The job's file as text, decoded the way the upload detected."""
    if not job.file:
        raise ValidationError({"file": [_("The file of this import is no longer kept.")]})
    with job.file.open("rb") as handle:
        content = handle.read()
    return csv_text(content, job.encoding)


def import_job_sample(*, job: ImportJob, rows: int = 3) -> list[tuple[str, list[str]]]:
    """The first values of each column, to help map them: [(header, [value, …]), …]."""
    records = csv_records(import_job_text(job), job.delimiter)
    next(records, None)
    samples: list[list[str]] = [[] for _header in job.headers]
    for _number, cells in islice(records, rows):
        for position, values in enumerate(samples):
            if position < len(cells) and cells[position].strip():
                values.append(cells[position].strip())
    return list(zip(job.headers, samples, strict=True))
