"""Front-desk pages: today's check-in list with live search, and the door kiosk where clients
check themselves in.

Thin views: reads through the selectors (which decide who sees what), writes through the
services (which check rights, lock and audit). A booking the viewer may not check in is a 404.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import Role
from apps.billing.selectors import check_in_statuses
from apps.core.api.throttling import client_ip, rate_limit
from apps.core.htmx import is_partial
from apps.scheduling.appointments import services
from apps.scheduling.checkin import selectors
from apps.scheduling.checkin.forms import CheckinSearchForm, KioskForm
from apps.scheduling.classes import services as class_services
from apps.scheduling.models import Appointment, ClassBooking
from apps.tenants.selectors import gym_zone

CHECKIN_ROLES = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK, Role.TRAINER)
KIOSK_ROLES = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK)
# A client at the door may check in to what starts within the hour or started a moment ago.
KIOSK_BEFORE = timedelta(minutes=60)
KIOSK_AFTER = timedelta(minutes=15)
# Shared with the login and sign-up limits: the kiosk is guessed at the same way.
KIOSK_THROTTLE_SCOPE = "auth"


def _today() -> Any:
    return timezone.localtime(timezone.now(), gym_zone()).date()


def _checkin_context(request: HttpRequest, search: str) -> dict[str, Any]:
    day = _today()
    bookings = selectors.checkin_class_bookings(viewer=request.user, day=day, search=search)
    appointments = selectors.checkin_appointments(viewer=request.user, day=day, search=search)
    clients = {row.client_id for rows in (bookings, appointments) for row in rows}
    return {
        "day": day,
        "search": search,
        "bookings": bookings,
        "appointments": appointments,
        # Membership status and credits left of everyone on the list, in two queries.
        "billing_status": check_in_statuses(clients),
    }


@role_required(*CHECKIN_ROLES)
@require_http_methods(["GET"])
def checkin(request: HttpRequest) -> HttpResponse:
    """Today's classes and sessions with one check-in button per client; the search box
    narrows them by name, email or phone as one types."""
    form = CheckinSearchForm(request.GET)
    search = form.cleaned_data["search"].strip() if form.is_valid() else ""
    context = {"form": form, **_checkin_context(request, search)}
    template = "scheduling/_checkin_list.html" if is_partial(request) else "scheduling/checkin.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _checked_in(request: HttpRequest, row: dict[str, Any], error: str = "") -> HttpResponse:
    """The updated row for HTMX, else back to the list with a message."""
    if is_partial(request):
        return render(request, "scheduling/_checkin_row.html", {**row, "error": error})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("%(name)s is checked in.") % {"name": row["name"]})
    return HttpResponseRedirect(reverse("scheduling:checkin"))


@role_required(*CHECKIN_ROLES)
@require_POST
def checkin_class_booking(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        booking = selectors.checkin_class_bookings(viewer=request.user).get(pk=pk)
    except ClassBooking.DoesNotExist as exc:
        raise Http404 from exc
    error = ""
    try:
        booking = class_services.class_check_in(actor=request.user, booking=booking)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    return _checked_in(
        request, {"booking": booking, "kind": "class", "name": booking.client.full_name}, error
    )


@role_required(*CHECKIN_ROLES)
@require_POST
def checkin_appointment(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        appointment = selectors.checkin_appointments(viewer=request.user).get(pk=pk)
    except Appointment.DoesNotExist as exc:
        raise Http404 from exc
    error = ""
    try:
        appointment = services.appointment_check_in(actor=request.user, appointment=appointment)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    except services.SchedulingConflict as exc:
        error = exc.message
    return _checked_in(
        request,
        {"appointment": appointment, "kind": "appointment", "name": appointment.client.full_name},
        error,
    )


def _kiosk_check_in(request: HttpRequest, identifier: str) -> dict[str, Any]:
    """Check the named client in to what starts soon. The answer names only their first name
    and their own bookings, and says the same "not found" whether or not the person exists."""
    client = selectors.kiosk_client_find(identifier=identifier)
    if client is None:
        return {"found": False}
    classes, sessions = selectors.kiosk_bookings(
        client=client, now=timezone.now(), before=KIOSK_BEFORE, after=KIOSK_AFTER
    )
    if not classes and not sessions:
        already = selectors.kiosk_already_checked_in(
            client=client, now=timezone.now(), before=KIOSK_BEFORE, after=KIOSK_AFTER
        )
        if already:
            return {
                "found": True,
                "already": True,
                "first_name": client.first_name,
                "checked": already,
            }
        return {"found": False}
    checked: list[str] = []
    for booking in classes:
        try:
            class_services.class_check_in(actor=request.user, booking=booking, via_kiosk=True)
        except ValidationError:
            continue
        checked.append(booking.occurrence.class_type.name)
    for appointment in sessions:
        try:
            services.appointment_check_in(
                actor=request.user, appointment=appointment, via_kiosk=True
            )
        except (ValidationError, services.SchedulingConflict):
            continue
        checked.append(_("Session with %(trainer)s") % {"trainer": appointment.trainer})
    if not checked:
        return {"found": False}
    return {"found": True, "first_name": client.first_name, "checked": checked}


@role_required(*KIOSK_ROLES)
@require_http_methods(["GET", "POST"])
def kiosk(request: HttpRequest) -> HttpResponse:
    """The door tablet, opened by staff: a client types their email or phone number and is
    checked in to their class or session starting within the hour. Rate-limited per device
    address, so it cannot be used to guess who is a member."""
    form = KioskForm(request.POST or None)
    result: dict[str, Any] | None = None
    if request.method == "POST":
        ip = client_ip(request) or "unknown"
        limited = rate_limit(request, scope=KIOSK_THROTTLE_SCOPE, key=f"kiosk:{ip}")
        if limited is not None:
            return limited
        if form.is_valid():
            result = _kiosk_check_in(request, form.cleaned_data["identifier"])
            form = KioskForm()
    return render(request, "scheduling/kiosk.html", {"form": form, "result": result})
