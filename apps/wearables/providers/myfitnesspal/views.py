"""MyFitnessPal and nutrition pages: the client's import and intake page in the portal, and the
staff page where a client's trainers and managers set targets, import and see intake."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import Role
from apps.crm.models import Client
from apps.portal.views import _own_client, client_required
from apps.tenants.selectors import gym_today
from apps.wearables.models import Connection, Provider
from apps.wearables.providers.myfitnesspal import selectors, services
from apps.wearables.providers.myfitnesspal.forms import ExportUploadForm, NutritionTargetForm

INTAKE_DAYS = 14
NUTRITION_ROLES = (Role.OWNER, Role.MANAGER, Role.TRAINER)


def _intake_context(client: Client) -> dict[str, Any]:
    today = gym_today()
    rows = selectors.intake_against_targets(
        client_id=client.pk, start=today - timedelta(days=INTAKE_DAYS - 1), end=today
    )
    return {
        "client": client,
        "intake_rows": list(reversed(rows)),
        "summary": selectors.intake_summary(rows),
        "target": selectors.nutrition_target_for(client_id=client.pk),
        "connection": Connection.objects.filter(
            client=client, provider=Provider.MYFITNESSPAL
        ).first(),
        "intake_days": INTAKE_DAYS,
    }


def _import(request: HttpRequest, client: Client, form: ExportUploadForm) -> bool:
    """Run the import of a valid upload form; False (the error on the form) if the file is
    refused."""
    upload = form.cleaned_data["file"]
    try:
        result = services.nutrition_import(
            actor=request.user,  # type: ignore[arg-type]
            client=client,
            name=upload.name,
            content=upload.read(),
        )
    except services.ExportFileError as error:
        form.add_error("file", str(error))
        return False
    messages.success(
        request,
        ngettext(
            "Imported %(days)s day from MyFitnessPal (%(first)s to %(last)s): %(created)s new, "
            "%(updated)s updated.",
            "Imported %(days)s days from MyFitnessPal (%(first)s to %(last)s): %(created)s new, "
            "%(updated)s updated.",
            result.days,
        )
        % {
            "days": result.days,
            "first": date_format(result.first, "SHORT_DATE_FORMAT"),
            "last": date_format(result.last, "SHORT_DATE_FORMAT"),
            "created": result.created,
            "updated": result.updated,
        },
    )
    return True


# --- The portal -------------------------------------------------------------------------------


@client_required
@require_http_methods(["GET", "POST"])
def portal_myfitnesspal(request: HttpRequest) -> HttpResponse:
    """The client uploads their export and sees the last two weeks against their targets."""
    client = _own_client(request.user)  # type: ignore[arg-type]
    form = ExportUploadForm()
    status = 200
    if request.method == "POST":
        form = ExportUploadForm(request.POST, request.FILES)
        if form.is_valid() and _import(request, client, form):
            return HttpResponseRedirect(reverse("portal:activity_myfitnesspal"))
        status = 400
    return render(
        request,
        "wearables/myfitnesspal/portal.html",
        {**_intake_context(client), "upload_form": form},
        status=status,
    )


# --- Staff ------------------------------------------------------------------------------------


def _client(request: HttpRequest, client_id: int) -> Client:
    client = (
        selectors.nutrition_clients(viewer=request.user)  # type: ignore[arg-type]
        .filter(pk=client_id)
        .first()
    )
    if client is None:
        raise Http404
    return client


def _staff_page(
    request: HttpRequest,
    client: Client,
    *,
    target_form: NutritionTargetForm | None = None,
    upload_form: ExportUploadForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _intake_context(client)
    target = context["target"]
    if target_form is None:
        target_form = NutritionTargetForm(
            initial={name: getattr(target, name) for name in selectors.NUTRIENTS}
            if target
            else None
        )
    return render(
        request,
        "wearables/myfitnesspal/client.html",
        {
            **context,
            "target_form": target_form,
            "upload_form": upload_form or ExportUploadForm(),
        },
        status=status,
    )


@role_required(*NUTRITION_ROLES)
@require_http_methods(["GET"])
def nutrition_client(request: HttpRequest, client_id: int) -> HttpResponse:
    """A client's targets and the last two weeks' intake against them, for their trainers."""
    return _staff_page(request, _client(request, client_id))


@role_required(*NUTRITION_ROLES)
@require_POST
def nutrition_client_targets(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    form = NutritionTargetForm(request.POST)
    if not form.is_valid():
        return _staff_page(request, client, target_form=form, status=400)
    try:
        services.nutrition_target_set(
            actor=request.user,  # type: ignore[arg-type]
            client=client,
            **{name: form.cleaned_data[name] for name in selectors.NUTRIENTS},
        )
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("Nutrition targets saved."))
    return HttpResponseRedirect(reverse("wearables:nutrition_client", args=[client.pk]))


@role_required(*NUTRITION_ROLES)
@require_POST
def nutrition_client_import(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    if not selectors.can_manage_nutrition(viewer=request.user, client=client):  # type: ignore[arg-type]
        raise Http404
    form = ExportUploadForm(request.POST, request.FILES)
    if form.is_valid() and _import(request, client, form):
        return HttpResponseRedirect(reverse("wearables:nutrition_client", args=[client.pk]))
    return _staff_page(request, client, upload_form=form, status=400)
