"""Writes of imports: upload a file, check it (the dry run), import it.

Matching and updates (decided here, shown on the preview page):
- a row is the client with the same email (case-insensitive); else, when the row has no email
  or that client has none, the client with the same phone number (digits only). Two different
  emails are two people, even on one family phone.
- matched clients keep what FitnessCRM already knows: the import only fills fields that are
  empty and adds new tags. Status, joined date and anything already filled are never
  overwritten: the file is a snapshot of the old software, FitnessCRM may have moved on since.
  So re-importing the same file changes nothing: every row is "unchanged".
- rows with errors in the dry run are left out (and listed); the others are imported in ONE
  transaction: if any of them fails at import time, nothing is imported and the job says why.
Creates and updates go through `client_create` / `client_update` as the person who uploaded
the file: their role's rules apply (front desk cannot import health notes) and every client
gets its audit event.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.roles import has_role, is_management
from apps.audit.services import audit_record
from apps.automations.services import triggers_paused
from apps.crm.models import Client
from apps.crm.phones import phone_key
from apps.crm.selectors import client_list
from apps.crm.services import client_create, client_update
from apps.imports.models import DateOrder, ImportJob, ImportJobStatus
from apps.imports.reading import MAX_UPLOAD_BYTES, csv_layout_detect, csv_records, csv_text
from apps.imports.rows import (
    DATE_FIELDS,
    DEFAULT_SOURCE,
    FULL_NAME,
    MIN_PHONE_DIGITS,
    TARGETS_BY_NAME,
    ParsedRow,
    date_order_guess,
    mapping_guess,
    mapping_problems,
    row_parse,
    targets_for,
)
from apps.imports.selectors import (
    IMPORT_ROLES,
    PROGRESS_CACHE_SECONDS,
    import_job_text,
    import_progress_cache_key,
)

logger = logging.getLogger(__name__)

REPORT_MAX_ERRORS = 500
REPORT_MAX_ROWS = 100
# Set by the database (status, joined date) or the gym's own decision: never filled from a file.
NEVER_FILLED = frozenset({"status", "joined_on"})


@dataclass
class PlannedRow:
    row: ParsedRow
    action: str  # "create", "update", "skip" (unchanged) or "error"
    client: Client | None = None
    changes: dict[str, Any] = field(default_factory=dict)


class ImportAbortedError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _check_importer(actor: User) -> None:
    if not has_role(actor, *IMPORT_ROLES):
        raise PermissionDenied(_("Your role cannot import clients."))


def _check_may_handle(actor: User, job: ImportJob) -> None:
    _check_importer(actor)
    if not (is_management(actor) or job.created_by_id == actor.pk):
        raise PermissionDenied(_("This import belongs to someone else."))


# --- Upload ---------------------------------------------------------------------------------


@transaction.atomic
def import_job_create(*, actor: User, upload: UploadedFile) -> ImportJob:
    """Keep an uploaded CSV file (at most 5 MB), detect how it is written and guess which column
    is which. Raises ValidationError on "file" when it is not a CSV file we can read."""
    _check_importer(actor)
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            {
                "file": [
                    _("The file is larger than %(size)s MB; split it into smaller files.")
                    % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
                ]
            }
        )
    content = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": [_("The file is too large.")]})
    layout = csv_layout_detect(content)
    mapping = mapping_guess(layout.headers, targets_for(actor))
    job = ImportJob(
        original_filename=(upload.name or "clients.csv")[:255],
        encoding=layout.encoding,
        delimiter=layout.delimiter,
        headers=layout.headers,
        column_mapping=mapping,
        date_order=_date_order_of(content, layout, mapping),
        created_by=actor,
    )
    job.file.save("clients.csv", ContentFile(content), save=False)
    job.save()
    audit_record(
        action="import.uploaded",
        actor=actor,
        obj=job,
        changes={"file": {"before": None, "after": job.original_filename}},
    )
    return job


def _date_order_of(content: bytes, layout: Any, mapping: Mapping[str, str]) -> str:
    positions = [i for i, h in enumerate(layout.headers) if mapping.get(h) in DATE_FIELDS]
    if not positions:
        return DateOrder.DAY_FIRST
    values: list[str] = []
    records = csv_records(csv_text(content, layout.encoding), layout.delimiter)
    next(records, None)
    for _number, cells in records:
        values.extend(cells[i] for i in positions if i < len(cells))
    return date_order_guess(values)


# --- Dry run --------------------------------------------------------------------------------


@transaction.atomic
def import_job_preview(
    *,
    actor: User,
    job: ImportJob,
    mapping: Mapping[str, str],
    date_order: str,
) -> ImportJob:
    """Save the column mapping and check every row without importing anything: the report says
    which rows would create or update a client, and what is wrong with the others."""
    _check_may_handle(actor, job)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (
        ImportJobStatus.UPLOADED,
        ImportJobStatus.PREVIEWED,
        ImportJobStatus.FAILED,
    ):
        raise ValidationError({"status": [_("This import has already run.")]})
    mapping = {header: name for header, name in mapping.items() if name and header in job.headers}
    # The import runs as the person who uploaded the file: their role decides what it may set.
    problems = mapping_problems(mapping, targets_for(job.created_by or actor))
    if date_order not in DateOrder.values:
        problems.append(_("Choose how dates are written."))
    if problems:
        raise ValidationError({"column_mapping": problems})
    job.column_mapping = mapping
    job.date_order = date_order
    planned = _plan(job)
    job.report = _report(job, planned)
    job.total_rows = len(planned)
    job.status = ImportJobStatus.PREVIEWED
    job.error_message = ""
    job.save()
    return job


def _plan(job: ImportJob) -> list[PlannedRow]:
    """Every row of the file read, validated and matched against the gym's clients."""
    actor = job.created_by
    if actor is None:
        raise ValidationError(
            {"created_by": [_("The person who uploaded this file no longer has an account.")]}
        )
    records = csv_records(import_job_text(job), job.delimiter)
    next(records, None)
    rows = [
        row_parse(
            number,
            cells,
            headers=job.headers,
            mapping=job.column_mapping,
            date_order=job.date_order,
        )
        for number, cells in records
    ]
    _flag_duplicates(rows)
    index = _ClientIndex(client_list(viewer=actor))
    matches: dict[int, int] = {}
    for row in rows:
        if row.errors:
            continue
        try:
            client_id = index.match(row)
        except ValueError as exc:
            row.add_error("phone", str(exc))
            continue
        if client_id is not None:
            matches[row.number] = client_id
    fields = {name for row in rows for name in row.fields}
    existing = _clients_by_pk(matches.values(), fields)
    planned: list[PlannedRow] = []
    for row in rows:
        if row.errors:
            planned.append(PlannedRow(row=row, action="error"))
        elif row.number in matches:
            client = existing[matches[row.number]]
            changes = _fill_changes(client, row.fields)
            planned.append(
                PlannedRow(
                    row=row, action="update" if changes else "skip", client=client, changes=changes
                )
            )
        else:
            planned.append(PlannedRow(row=row, action="create", changes=_create_fields(row)))
    return planned


class _ClientIndex:
    """The gym's clients by email and by phone digits, loaded once (one query)."""

    def __init__(self, clients: QuerySet[Client]) -> None:
        self.by_email: dict[str, int] = {}
        self.by_phone: dict[str, list[tuple[int, str]]] = defaultdict(list)
        values = clients.prefetch_related(None).order_by().values_list("pk", "email", "phone")
        for pk, email, phone in values.iterator(chunk_size=5000):
            if email:
                self.by_email[email.lower()] = pk
            digits = _digits(phone)
            if len(digits) >= MIN_PHONE_DIGITS:
                self.by_phone[digits].append((pk, email))

    def match(self, row: ParsedRow) -> int | None:
        if row.email and row.email in self.by_email:
            return self.by_email[row.email]
        digits = row.phone_digits
        if len(digits) < MIN_PHONE_DIGITS:
            return None
        # A client with another email is another person sharing the phone (a family).
        candidates = [
            pk for pk, email in self.by_phone.get(digits, []) if not (row.email and email)
        ]
        if len(candidates) > 1:
            raise ValueError(
                _(
                    "%(count)s clients have this phone number; add an email to the row to say "
                    "which one it is."
                )
                % {"count": len(candidates)}
            )
        return candidates[0] if candidates else None


def _digits(phone: str) -> str:
    # As rows are matched: a number stored before phones were normalised still matches.
    return phone_key(phone)


def _flag_duplicates(rows: list[ParsedRow]) -> None:
    """Two rows for one person: the later one is an error, so importing the file twice gives
    the same result (otherwise the second row would update the client the first created)."""
    first_with_email: dict[str, int] = {}
    for row in rows:
        if not row.email:
            continue
        if row.email in first_with_email:
            row.add_error(
                "email", _("Same email as row %(row)s.") % {"row": first_with_email[row.email]}
            )
        else:
            first_with_email[row.email] = row.number
    by_phone: dict[str, list[ParsedRow]] = defaultdict(list)
    for row in rows:
        if len(row.phone_digits) >= MIN_PHONE_DIGITS:
            by_phone[row.phone_digits].append(row)
    for group in by_phone.values():
        if len(group) > 1 and any(not row.email for row in group):
            for row in group[1:]:
                row.add_error(
                    "phone",
                    _("Same phone number as row %(row)s, and no email to tell them apart.")
                    % {"row": group[0].number},
                )


def _clients_by_pk(pks: Iterable[int], fields: set[str]) -> dict[int, Client]:
    pks = set(pks)
    if not pks:
        return {}
    # Only the columns the file fills: health notes are decrypted only when they are imported.
    columns = {name for name in fields if name in TARGETS_BY_NAME and name != FULL_NAME}
    return Client.objects.only("pk", *columns).in_bulk(pks)


def _is_empty(value: Any) -> bool:
    return value in (None, "", [], {})


def _fill_changes(client: Client, fields: Mapping[str, Any]) -> dict[str, Any]:
    """What the row adds to an existing client: empty fields filled, new tags added."""
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        if name in NEVER_FILLED or _is_empty(value):
            continue
        current = getattr(client, name)
        if name == "tags":
            merged = sorted(set(current or []) | set(value))
            if merged != sorted(current or []):
                changes[name] = merged
        elif _is_empty(current):
            changes[name] = value
    return changes


def _create_fields(row: ParsedRow) -> dict[str, Any]:
    fields = {name: value for name, value in row.fields.items() if not _is_empty(value)}
    fields.setdefault("source", DEFAULT_SOURCE)
    return fields


def _report(job: ImportJob, planned: list[PlannedRow]) -> dict[str, Any]:
    columns = {name: header for header, name in job.column_mapping.items()}
    for name in ("first_name", "last_name"):
        columns.setdefault(name, columns.get(FULL_NAME, ""))
    counts = dict.fromkeys(("create", "update", "skip", "error"), 0)
    errors: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for item in planned:
        counts[item.action] += 1
        if item.action == "error":
            for name, messages in item.row.errors.items():
                errors.append(
                    {
                        "row": item.row.number,
                        "field": name,
                        "column": columns.get(name, ""),
                        "messages": messages,
                    }
                )
        elif len(rows) < REPORT_MAX_ROWS:
            rows.append(
                {
                    "row": item.row.number,
                    "action": item.action,
                    "name": item.row.name,
                    "email": item.row.email,
                    "client": item.client.pk if item.client is not None else None,
                    # Field names only: values (health notes) stay out of the report.
                    "fields": sorted(item.changes),
                }
            )
    return {
        "counts": {"total": len(planned), **counts},
        "errors": errors[:REPORT_MAX_ERRORS],
        "errors_truncated": len(errors) > REPORT_MAX_ERRORS,
        "rows": rows,
    }


# --- Import ---------------------------------------------------------------------------------


@transaction.atomic
def import_job_start(*, actor: User, job: ImportJob) -> ImportJob:
    """Queue a checked import; a worker runs it (`import_job_run`) once this commits."""
    from apps.imports.tasks import import_job_run_task

    _check_may_handle(actor, job)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (ImportJobStatus.PREVIEWED, ImportJobStatus.FAILED):
        raise ValidationError({"status": [_("Check the file before importing it.")]})
    if not job.file:
        raise ValidationError({"file": [_("The file of this import is no longer kept.")]})
    job.status = ImportJobStatus.RUNNING
    job.progress = 0
    job.error_message = ""
    job.started_at = timezone.now()
    job.finished_at = None
    job.save()
    cache.delete(import_progress_cache_key(job.pk))
    audit_record(action="import.started", actor=actor, obj=job)
    transaction.on_commit(partial(import_job_run_task.delay, job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Import a started job's rows, all or nothing. Running it twice is harmless: a job that is
    not running any more (done, or failed) is left alone, and the job row's lock makes a second
    worker wait for the first. A database outage propagates (the task retries); any other
    failure marks the job failed, with nothing imported."""
    try:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job_id)
            if job.status != ImportJobStatus.RUNNING:
                return job
            # Imported members are not new to the gym: no welcome series for each of them.
            with triggers_paused():
                _import(job)
    except ImportAbortedError as exc:
        import_job_fail(job_id=job_id, message=exc.message)
    except ValidationError as exc:
        import_job_fail(job_id=job_id, message=" ".join(exc.messages))
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("Import job %s failed", job_id)
        import_job_fail(
            job_id=job_id,
            message=_("An unexpected error stopped the import. Nothing was imported."),
        )
    return ImportJob.objects.get(pk=job_id)


def _import(job: ImportJob) -> None:
    actor = job.created_by
    planned = _plan(job)
    total = len(planned)
    cache_key = import_progress_cache_key(job.pk)
    reported = -1
    for done, item in enumerate(planned, start=1):
        try:
            if item.action == "create":
                client_create(actor=actor, **item.changes)  # type: ignore[arg-type]
            elif item.action == "update":
                client_update(actor=actor, client=item.client, **item.changes)  # type: ignore[arg-type]
        except (ValidationError, PermissionDenied, DatabaseError) as exc:
            raise ImportAbortedError(_row_failure(item.row.number, exc)) from exc
        progress = done * 100 // total
        if progress != reported:
            # Through the cache: this transaction's writes (the job row too) stay invisible to
            # the progress page until the end.
            cache.set(
                cache_key,
                {"progress": progress, "processed": done, "total": total},
                PROGRESS_CACHE_SECONDS,
            )
            reported = progress
    counts: dict[str, int] = defaultdict(int)
    for item in planned:
        counts[item.action] += 1
    job.report = _report(job, planned)
    job.total_rows = total
    job.created_rows = counts["create"]
    job.updated_rows = counts["update"]
    job.skipped_rows = counts["skip"]
    job.failed_rows = counts["error"]
    job.progress = 100
    job.status = ImportJobStatus.DONE
    job.finished_at = timezone.now()
    stored = job.file.name
    job.file = ""
    job.save()
    audit_record(
        action="import.finished",
        actor=actor,
        obj=job,
        changes={
            name: {"before": None, "after": getattr(job, name)}
            for name in ("created_rows", "updated_rows", "skipped_rows", "failed_rows")
        },
    )
    # The clients are in the CRM now; the file (everyone's details) is not kept longer than
    # needed. Deleted after the commit: a rolled-back import keeps it for another try.
    storage = ImportJob._meta.get_field("file").storage
    transaction.on_commit(partial(storage.delete, stored))
    _notify_finished(job)


def _notify_finished(job: ImportJob) -> None:
    """Tell whoever started the import how it ended (recorded in the transaction that ends it,
    sent after the commit): they need not watch the progress page."""
    from django.urls import reverse
    from django.utils import translation

    from apps.notifications.services import notify
    from apps.tenants.branding import email_language

    if job.created_by is None:
        return
    with translation.override(email_language(job.created_by)):
        if job.status == ImportJobStatus.DONE:
            summary = _(
                "%(created)s created, %(updated)s updated, %(skipped)s unchanged, "
                "%(failed)s with errors"
            ) % {
                "created": job.created_rows,
                "updated": job.updated_rows,
                "skipped": job.skipped_rows,
                "failed": job.failed_rows,
            }
        else:
            summary = job.error_message or _("nothing was imported")
    finished = job.finished_at.isoformat() if job.finished_at else ""
    notify(
        kind="import_finished",
        recipient=job.created_by,
        context={"file_name": job.original_filename, "summary": summary.rstrip(".")},
        event_key=f"import_finished:{job.pk}:{finished}",
        url=reverse("imports:job", args=[job.pk]),
    )


def _row_failure(number: int, exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        detail = " ".join(exc.messages)
    elif isinstance(exc, PermissionDenied):
        detail = str(exc) or _("Permission denied.")
    else:
        # The database's first line names the rule (the constraint); the rest may hold values.
        detail = _("the database refused it (%(reason)s)") % {
            "reason": str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        }
    return _("Row %(row)s could not be imported: %(detail)s. Nothing was imported.") % {
        "row": number,
        "detail": detail,
    }


@transaction.atomic
def import_job_fail(*, job_id: int, message: str) -> ImportJob:
    """Mark a job failed (its import was rolled back) and say why."""
    job = ImportJob.objects.select_for_update().get(pk=job_id)
    job.status = ImportJobStatus.FAILED
    job.error_message = message
    job.finished_at = timezone.now()
    job.progress = 0
    job.save(update_fields=["status", "error_message", "finished_at", "progress", "updated_at"])
    cache.delete(import_progress_cache_key(job.pk))
    audit_record(
        action="import.failed",
        actor=job.created_by,
        obj=job,
        changes={"error": {"before": None, "after": message}},
    )
    _notify_finished(job)
    return job


# --- Stuck jobs -----------------------------------------------------------------------------


@transaction.atomic
def import_jobs_fail_stuck(*, now: datetime | None = None) -> int:
    """Mark failed the jobs of this gym still running IMPORT_JOB_TIMEOUT_MINUTES after they
    were started: their task was lost (a broker or worker died). Returns how many.

    Safe against a slow import that is still going: `import_job_run` holds the job's row lock
    for its whole transaction, and locked rows are skipped here. A lost import wrote nothing
    (one transaction), so the job keeps its file and can simply be started again."""
    minutes = int(settings.IMPORT_JOB_TIMEOUT_MINUTES)
    cutoff = (now or timezone.now()) - timedelta(minutes=minutes)
    stuck = list(
        ImportJob.objects.select_for_update(skip_locked=True)
        .filter(status=ImportJobStatus.RUNNING)
        .filter(Q(started_at__lt=cutoff) | Q(started_at__isnull=True, updated_at__lt=cutoff))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    message = _(
        "The import did not finish within %(minutes)s minutes: the worker running it stopped "
        "or its task was lost. Nothing was imported; try again."
    ) % {"minutes": minutes}
    for job_id in stuck:
        import_job_fail(job_id=job_id, message=message)
        logger.warning("Import job %s was stuck and is marked failed", job_id)
    return len(stuck)
