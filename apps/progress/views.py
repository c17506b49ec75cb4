"""Progress pages: a client's measurements, charts and photos, for staff (/progress/clients/<id>/)
and for the client in the portal (/portal/progress/), plus the one view that serves photo files.

Thin views: reads through apps.progress.selectors (who sees which client), writes through
apps.progress.services. A client or photo the viewer may not see is a 404, never a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import Role, User
from apps.core.forms import add_service_errors
from apps.crm.models import Client
from apps.crm.selectors import client_for_user
from apps.portal.views import client_required
from apps.progress import selectors, services
from apps.progress.forms import (
    CompareForm,
    MeasurementForm,
    PhotoForm,
    UnitSystemForm,
)
from apps.progress.models import CONVERTIBLE_FIELDS, BodyMeasurement, ProgressPhoto
from apps.progress.units import to_display, unit_name

# Staff who may see health data: front desk sees no measurements or photos.
HEALTH_STAFF = (Role.OWNER, Role.MANAGER, Role.TRAINER)
# How many measurements a page shows (and charts): a few years of weekly check-ins.
PAGE_MEASUREMENTS = 200
PAGE_PHOTOS = 60


# --- Shared ---------------------------------------------------------------------------------


def _client_or_404(viewer: User, pk: int) -> Client:
    try:
        return selectors.progress_client_get(viewer=viewer, pk=pk)
    except Client.DoesNotExist as exc:
        raise Http404 from exc


def _own_client(user: User) -> Client:
    """Made when the client was invited or signed in (apps/crm/signals.py); only read here."""
    client = client_for_user(user)
    if client is None:
        raise Http404
    return client


class Place:
    """Where a page's forms post to: the staff pages or the portal's."""

    def __init__(self, *, portal: bool, client: Client) -> None:
        self.portal = portal
        self.client = client

    def url(self, name: str, **kwargs: Any) -> str:
        if self.portal:
            return reverse(f"portal:progress_{name}", kwargs=kwargs or None)
        return reverse(f"progress:{name}", kwargs={"client_id": self.client.pk, **kwargs})

    def page(self) -> str:
        if self.portal:
            return reverse("portal:progress")
        return reverse("progress:client_progress", kwargs={"client_id": self.client.pk})


def _measurement_rows(measurements: list[BodyMeasurement], unit_system: str) -> list[dict]:
    rows = []
    for measurement in measurements:
        values = {
            public: to_display(getattr(measurement, stored), quantity, unit_system)
            for stored, (public, quantity) in CONVERTIBLE_FIELDS.items()
        }
        rows.append({"measurement": measurement, **values})
    return rows


def _page_context(
    request: HttpRequest,
    *,
    client: Client,
    place: Place,
    measurement_form: MeasurementForm | None = None,
    photo_form: PhotoForm | None = None,
) -> dict[str, Any]:
    viewer: User = request.user  # type: ignore[assignment]
    unit_system = viewer.unit_system
    measurements = list(
        selectors.measurement_list(viewer=viewer, client=client)[:PAGE_MEASUREMENTS]
    )
    photos = list(selectors.photo_list(viewer=viewer, client=client)[:PAGE_PHOTOS])
    return {
        "client": client,
        "place": place,
        "is_portal": place.portal,
        "unit_system": unit_system,
        "mass_unit": unit_name("mass", unit_system),
        "length_unit": unit_name("length", unit_system),
        "measurement_rows": _measurement_rows(measurements, unit_system),
        "chart_data": selectors.chart_data(measurements=measurements, unit_system=unit_system),
        "photos": photos,
        "measurement_form": measurement_form or MeasurementForm(unit_system=unit_system),
        "photo_form": photo_form or PhotoForm(),
        "unit_form": UnitSystemForm(initial={"unit_system": unit_system}),
        "compare_form": CompareForm(photos=photos) if len(photos) >= 2 else None,
        "urls": {
            "page": place.page(),
            "measurement_add": place.url("measurement_add"),
            "photo_add": place.url("photo_add"),
            "compare": place.url("compare"),
            "units": place.url("units"),
        },
    }


def _render_page(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    template = (
        "progress/portal_progress.html" if context["is_portal"] else "progress/client_progress.html"
    )
    return render(request, template, context, status=status)


def _measurement_add(request: HttpRequest, client: Client, place: Place) -> HttpResponse:
    viewer: User = request.user  # type: ignore[assignment]
    form = MeasurementForm(request.POST, unit_system=viewer.unit_system)
    if form.is_valid():
        try:
            services.measurement_create(actor=viewer, client=client, **form.metric_values())
        except ValidationError as exc:
            add_service_errors(form, exc, MeasurementForm.aliases())
        else:
            messages.success(request, _("Measurement saved."))
            return HttpResponseRedirect(place.page())
    context = _page_context(request, client=client, place=place, measurement_form=form)
    return _render_page(request, context, status=400)


def _photo_add(request: HttpRequest, client: Client, place: Place) -> HttpResponse:
    form = PhotoForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["image"]
        try:
            services.photo_upload(
                actor=request.user,  # type: ignore[arg-type]
                client=client,
                pose=form.cleaned_data["pose"],
                taken_on=form.cleaned_data["taken_on"],
                image=upload,
                size=upload.size,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Photo saved."))
            return HttpResponseRedirect(place.page())
    context = _page_context(request, client=client, place=place, photo_form=form)
    return _render_page(request, context, status=400)


def _measurement_delete(
    request: HttpRequest, pk: int, place_of: Callable[[Client], Place]
) -> HttpResponse:
    try:
        measurement = selectors.measurement_get(viewer=request.user, pk=pk)  # type: ignore[arg-type]
    except BodyMeasurement.DoesNotExist as exc:
        raise Http404 from exc
    services.measurement_delete(actor=request.user, measurement=measurement)  # type: ignore[arg-type]
    messages.success(request, _("Measurement deleted."))
    return HttpResponseRedirect(place_of(measurement.client).page())


def _photo_delete(
    request: HttpRequest, pk: int, place_of: Callable[[Client], Place]
) -> HttpResponse:
    try:
        photo = selectors.photo_get(viewer=request.user, pk=pk)  # type: ignore[arg-type]
    except ProgressPhoto.DoesNotExist as exc:
        raise Http404 from exc
    services.photo_delete(actor=request.user, photo=photo)  # type: ignore[arg-type]
    messages.success(request, _("Photo deleted."))
    return HttpResponseRedirect(place_of(photo.client).page())


def _compare(request: HttpRequest, client: Client, place: Place) -> HttpResponse:
    viewer: User = request.user  # type: ignore[assignment]
    photos = list(selectors.photo_list(viewer=viewer, client=client)[:PAGE_PHOTOS])
    form = CompareForm(request.GET or None, photos=photos)
    pair: list[ProgressPhoto] = []
    if form.is_valid():
        by_pk = {photo.pk: photo for photo in photos}
        pair = [by_pk[form.cleaned_data["left"]], by_pk[form.cleaned_data["right"]]]
    elif not request.GET and len(photos) >= 2:
        # The first and latest photo of the latest pose: the comparison people want first.
        latest = photos[0]
        same_pose = [photo for photo in photos if photo.pose == latest.pose]
        pair = [same_pose[-1], latest] if len(same_pose) >= 2 else [photos[1], latest]
        form = CompareForm(initial={"left": pair[0].pk, "right": pair[1].pk}, photos=photos)
    template = "progress/portal_compare.html" if place.portal else "progress/compare.html"
    status = 400 if request.GET and not form.is_valid() else 200
    return render(
        request,
        template,
        {"client": client, "place": place, "form": form, "pair": pair, "photos": photos},
        status=status,
    )


def _units(request: HttpRequest, place: Place) -> HttpResponse:
    form = UnitSystemForm(request.POST)
    if form.is_valid():
        services.unit_system_set(
            user=request.user,  # type: ignore[arg-type]
            unit_system=form.cleaned_data["unit_system"],
        )
        messages.success(request, _("Units saved."))
    else:
        messages.error(request, _("Choose metric or imperial."))
    return HttpResponseRedirect(place.page())


# --- Staff pages ----------------------------------------------------------------------------


def _staff_place(client: Client) -> Place:
    return Place(portal=False, client=client)


@role_required(*HEALTH_STAFF)
@require_GET
def client_progress(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client_or_404(request.user, client_id)  # type: ignore[arg-type]
    return _render_page(request, _page_context(request, client=client, place=_staff_place(client)))


@role_required(*HEALTH_STAFF)
@require_POST
def measurement_add(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client_or_404(request.user, client_id)  # type: ignore[arg-type]
    return _measurement_add(request, client, _staff_place(client))


@role_required(*HEALTH_STAFF)
@require_POST
def photo_add(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client_or_404(request.user, client_id)  # type: ignore[arg-type]
    return _photo_add(request, client, _staff_place(client))


@role_required(*HEALTH_STAFF)
@require_GET
def compare(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client_or_404(request.user, client_id)  # type: ignore[arg-type]
    return _compare(request, client, _staff_place(client))


@role_required(*HEALTH_STAFF)
@require_POST
def units(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client_or_404(request.user, client_id)  # type: ignore[arg-type]
    return _units(request, _staff_place(client))


@role_required(*HEALTH_STAFF)
@require_POST
def measurement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _measurement_delete(request, pk, _staff_place)


@role_required(*HEALTH_STAFF)
@require_POST
def photo_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _photo_delete(request, pk, _staff_place)


# --- Photo files (staff and clients) --------------------------------------------------------


def photo_response(photo: ProgressPhoto, *, thumbnail: bool) -> FileResponse:
    """Stream a photo (or its thumbnail) from the gym's storage; never cached by a proxy."""
    name = photo.thumbnail_name if thumbnail else photo.file_name
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def photo_file(request: HttpRequest, pk: int) -> FileResponse:
    """The photo, to the client themselves, their current trainers and management; anyone
    else (another client, an unassigned trainer, front desk, another gym) gets a 404."""
    try:
        photo = selectors.photo_get(viewer=request.user, pk=pk)  # type: ignore[arg-type]
    except ProgressPhoto.DoesNotExist as exc:
        raise Http404 from exc
    return photo_response(photo, thumbnail=request.GET.get("size") == "thumb")


# --- Portal pages ---------------------------------------------------------------------------


def _portal_place(client: Client) -> Place:
    return Place(portal=True, client=client)


@client_required
@require_GET
def portal_progress(request: HttpRequest) -> HttpResponse:
    client = _own_client(request.user)  # type: ignore[arg-type]
    return _render_page(request, _page_context(request, client=client, place=_portal_place(client)))


@client_required
@require_POST
def portal_measurement_add(request: HttpRequest) -> HttpResponse:
    client = _own_client(request.user)  # type: ignore[arg-type]
    return _measurement_add(request, client, _portal_place(client))


@client_required
@require_POST
def portal_photo_add(request: HttpRequest) -> HttpResponse:
    client = _own_client(request.user)  # type: ignore[arg-type]
    return _photo_add(request, client, _portal_place(client))


@client_required
@require_GET
def portal_compare(request: HttpRequest) -> HttpResponse:
    client = _own_client(request.user)  # type: ignore[arg-type]
    return _compare(request, client, _portal_place(client))


@client_required
@require_POST
def portal_units(request: HttpRequest) -> HttpResponse:
    client = _own_client(request.user)  # type: ignore[arg-type]
    return _units(request, _portal_place(client))


@client_required
@require_POST
def portal_measurement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        return _measurement_delete(request, pk, _portal_place)
    except PermissionDenied:
        messages.error(request, _("Only the person who recorded it can delete it."))
        return HttpResponseRedirect(reverse("portal:progress"))


@client_required
@require_POST
def portal_photo_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _photo_delete(request, pk, _portal_place)
