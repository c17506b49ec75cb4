"""Import pages (upload → map columns → check → import, with progress) and the CSV export of
the client list."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.decorators import mfa_required, role_required
from apps.accounts.models import STAFF_ROLES
from apps.audit.services import audit_record
from apps.crm.selectors import CLIENT_FILTER_PARAMS, client_filter, client_list
from apps.imports.exports import client_csv_response
from apps.imports.forms import MappingForm, UploadForm
from apps.imports.models import ImportJob, ImportJobStatus
from apps.imports.rows import targets_for
from apps.imports.selectors import (
    IMPORT_ROLES,
    import_job_get,
    import_job_list,
    import_job_progress,
    import_job_sample,
)
from apps.imports.services import import_job_create, import_job_preview, import_job_start

RECENT_JOBS = 20


def _job_or_404(request: HttpRequest, pk: int) -> ImportJob:
    try:
        return import_job_get(viewer=request.user, pk=pk)  # type: ignore[arg-type]
    except ImportJob.DoesNotExist as exc:
        raise Http404 from exc


def _show_errors(form: Form, exc: ValidationError) -> None:
    for name, messages_ in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, messages_)


def _next_step(job: ImportJob) -> HttpResponseRedirect:
    if job.status == ImportJobStatus.UPLOADED:
        return HttpResponseRedirect(reverse("imports:mapping", args=[job.pk]))
    if job.status == ImportJobStatus.PREVIEWED:
        return HttpResponseRedirect(reverse("imports:preview", args=[job.pk]))
    return HttpResponseRedirect(reverse("imports:job", args=[job.pk]))


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(*IMPORT_ROLES)
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(
                actor=request.user,  # type: ignore[arg-type]
                upload=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            return _next_step(job)
    jobs = import_job_list(viewer=request.user)[:RECENT_JOBS]  # type: ignore[arg-type]
    status = 400 if request.method == "POST" else 200
    return render(request, "imports/upload.html", {"form": form, "jobs": jobs}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(*IMPORT_ROLES)
def mapping(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    if job.status in (ImportJobStatus.RUNNING, ImportJobStatus.DONE):
        return _next_step(job)
    targets = targets_for(job.created_by or request.user)  # type: ignore[arg-type]
    form = MappingForm(
        request.POST or None,
        headers=job.headers,
        targets=targets,
        initial_mapping=job.column_mapping,
        initial={"date_order": job.date_order},
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_preview(
                actor=request.user,  # type: ignore[arg-type]
                job=job,
                mapping=form.mapping(),
                date_order=form.cleaned_data["date_order"],
            )
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            return _next_step(job)
    try:
        samples = dict(import_job_sample(job=job))
    except ValidationError:
        samples = {}
    columns = [(field, samples.get(field.label, [])) for field in form.column_fields()]
    return render(
        request,
        "imports/mapping.html",
        {"job": job, "form": form, "columns": columns},
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@require_GET
@role_required(*IMPORT_ROLES)
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    if job.status != ImportJobStatus.PREVIEWED:
        return _next_step(job)
    return render(request, "imports/preview.html", {"job": job, "report": job.report})


@never_cache
@require_POST
@role_required(*IMPORT_ROLES)
def start(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    try:
        job = import_job_start(actor=request.user, job=job)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return HttpResponseRedirect(reverse("imports:job", args=[job.pk]))


def _job_context(job: ImportJob) -> dict[str, object]:
    return {"job": job, "state": import_job_progress(job=job), "report": job.report}


@never_cache
@require_GET
@role_required(*IMPORT_ROLES)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    if job.status in (ImportJobStatus.UPLOADED, ImportJobStatus.PREVIEWED):
        return _next_step(job)
    return render(request, "imports/job.html", _job_context(job))


@never_cache
@require_GET
@role_required(*IMPORT_ROLES)
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress partial the job page polls (HTMX, every second while the job runs)."""
    job = _job_or_404(request, pk)
    return render(request, "imports/_progress.html", _job_context(job))


@never_cache
@require_GET
@role_required(*STAFF_ROLES)
@mfa_required
def client_export(request: HttpRequest) -> HttpResponse:
    """The clients of the list page as CSV, with the list's filters
    (?search=&status=&trainer=&tag=&joined_after=&joined_before=)."""
    try:
        clients = client_filter(client_list(viewer=request.user), request.GET)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = [f"{name}: {' '.join(messages_)}" for name, messages_ in exc.message_dict.items()]
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
    filters = {name: request.GET[name] for name in CLIENT_FILTER_PARAMS if request.GET.get(name)}
    # Who took a copy of the client list is worth knowing.
    audit_record(
        action="clients.exported",
        actor=request.user,
        changes={"filters": {"before": None, "after": filters}},
    )
    return client_csv_response(clients)
