"""Apple Health in the portal: the upload page, the chunked upload's JSON endpoints (called by
static/wearables/apple_health/upload.js with the session and CSRF token) and the import's
progress partial the page polls with HTMX."""

from __future__ import annotations

import re
import tempfile

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.portal.views import _own_client, client_required
from apps.wearables.models import HealthExport, HealthExportStatus
from apps.wearables.providers.apple_health import selectors, services

CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
# Spooled to disk past this: a chunk (8 MB by default) never sits whole in a worker's memory.
SPOOL_BYTES = 1024 * 1024


def _rejected(error: services.UploadRejectedError) -> JsonResponse:
    return JsonResponse(
        {"errors": {error.field: [error.message]}, "detail": error.message}, status=error.status
    )


def _own_export(request: HttpRequest, export_id: int) -> HealthExport:
    client = _own_client(request.user)  # type: ignore[arg-type]
    export = selectors.health_export_for_client(client=client, export_id=export_id)
    if export is None:
        raise Http404
    return export


def _state(export: HealthExport) -> dict[str, object]:
    return {
        "id": export.pk,
        "status": export.status,
        "size_bytes": export.size_bytes,
        "received_bytes": export.received_bytes,
        "chunk_bytes": settings.APPLE_HEALTH_CHUNK_BYTES,
        "missing": services.health_export_missing(export=export)
        if export.status == HealthExportStatus.UPLOADING
        else [],
        "chunk_url": reverse("portal:activity_apple_health_chunk", args=[export.pk]),
        "progress_url": reverse("portal:activity_apple_health_progress", args=[export.pk]),
    }


@client_required
@require_GET
def apple_health_page(request: HttpRequest) -> HttpResponse:
    client = _own_client(request.user)  # type: ignore[arg-type]
    return render(
        request,
        "wearables/apple_health/upload.html",
        {
            "exports": selectors.health_exports_for_client(client=client)[:10],
            "chunk_bytes": settings.APPLE_HEALTH_CHUNK_BYTES,
            "max_gb": round(settings.APPLE_HEALTH_MAX_EXPORT_BYTES / 1024**3, 1),
        },
    )


@client_required
@require_POST
def apple_health_upload_start(request: HttpRequest) -> HttpResponse:
    """Starts (or resumes) an upload; answers which chunks are still to send."""
    client = _own_client(request.user)  # type: ignore[arg-type]
    try:
        export = services.health_export_start(
            client=client,
            file_name=request.POST.get("file_name", ""),
            size_bytes=request.POST.get("size_bytes"),
        )
    except services.UploadRejectedError as error:
        return _rejected(error)
    return JsonResponse(_state(export), status=201)


@client_required
@require_GET
def apple_health_upload_status(request: HttpRequest, export_id: int) -> HttpResponse:
    return JsonResponse(_state(_own_export(request, export_id)))


@client_required
@require_http_methods(["PUT"])
def apple_health_upload_chunk(request: HttpRequest, export_id: int) -> HttpResponse:
    """One chunk as the raw body, `Content-Range: bytes start-end/total`. Read from the request
    stream, not request.body: Django caps bodies it keeps in memory far below a chunk."""
    export = _own_export(request, export_id)
    match = CONTENT_RANGE.match(request.headers.get("Content-Range", ""))
    if not match:
        return _rejected(
            services.UploadRejectedError(
                "Content-Range",
                _("Send the chunk's place as Content-Range: bytes start-end/total."),
            )
        )
    start, end, total = (int(group) for group in match.groups())
    length = end - start + 1
    chunk = settings.APPLE_HEALTH_CHUNK_BYTES
    if length <= 0 or length > chunk:
        return _rejected(
            services.UploadRejectedError(
                "Content-Range",
                _("A chunk holds at most %(size)s bytes.") % {"size": chunk},
            )
        )
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
        remaining = chunk + 1
        while remaining > 0 and (block := request.read(min(remaining, 256 * 1024))):
            body.write(block)
            remaining -= len(block)
        if body.tell() != length:
            return _rejected(
                services.UploadRejectedError(
                    "Content-Range", _("The body's length does not match Content-Range.")
                )
            )
        body.seek(0)
        try:
            export = services.health_export_chunk_store(
                export=export, start=start, total=total, body=body
            )
        except services.UploadRejectedError as error:
            return _rejected(error)
    return JsonResponse(_state(export))


@client_required
@require_GET
def apple_health_progress(request: HttpRequest, export_id: int) -> HttpResponse:
    return render(
        request,
        "wearables/apple_health/_export.html",
        {"export": _own_export(request, export_id)},
    )
