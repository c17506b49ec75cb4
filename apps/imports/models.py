"""Imports of clients from a CSV file another gym's software wrote. Lives in each gym's schema."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportJobStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    PREVIEWED = "previewed", _("Checked")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class DateOrder(models.TextChoices):
    """How to read a date such as 03/04/1990: the file decides, not the gym's language."""

    DAY_FIRST = "dmy", _("Day first (31/12/1990)")
    MONTH_FIRST = "mdy", _("Month first (12/31/1990)")
    YEAR_FIRST = "ymd", _("Year first (1990-12-31)")


def import_file_path(instance: Any, filename: str) -> str:
    # The storage puts every file under the gym's own prefix (its schema). The name people gave
    # the file stays in the row, never in the path: it is theirs to choose, and may name people.
    return f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.csv"


class ImportJob(models.Model):
    file = models.FileField(_("file"), upload_to=import_file_path, max_length=255, blank=True)
    original_filename = models.CharField(_("file name"), max_length=255)
    # What reading the file found out at upload, so every later step reads it the same way.
    encoding = models.CharField(_("encoding"), max_length=20)
    delimiter = models.CharField(_("delimiter"), max_length=1)
    headers = models.JSONField(_("columns"), default=list)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ImportJobStatus.choices,
        default=ImportJobStatus.UPLOADED,
    )
    # {"<column header>": "<client field>"}; columns not in it are ignored.
    column_mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    date_order = models.CharField(
        _("date order"), max_length=3, choices=DateOrder.choices, default=DateOrder.DAY_FIRST
    )
    # The dry run's findings (and, once run, the import's): counts, row errors, a sample of
    # what would be created or updated.
    report = models.JSONField(_("report"), default=dict, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    created_rows = models.PositiveIntegerField(_("created"), default=0)
    updated_rows = models.PositiveIntegerField(_("updated"), default=0)
    skipped_rows = models.PositiveIntegerField(_("unchanged"), default=0)
    failed_rows = models.PositiveIntegerField(_("with errors"), default=0)
    progress = models.PositiveSmallIntegerField(
        _("progress"), default=0, validators=[MaxValueValidator(100)]
    )
    error_message = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("client import")
        verbose_name_plural = _("client imports")
        ordering = ("-created_at", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="imports_job_progress_at_most_100"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ImportJobStatus.values), name="imports_job_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportJobStatus.DONE, ImportJobStatus.FAILED)
