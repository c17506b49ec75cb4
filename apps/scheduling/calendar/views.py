"""The staff calendar: a time grid of a day, a week, or one day by trainer or by room, of
appointments and classes in the gym's time zone, filtered by trainer, room or location (an
agenda list on phones); appointments move by drag and drop (static
scheduling/calendar.js) or through a small form, and new ones are booked from it.

Thin views: reads through apps.scheduling.calendar.selectors (role rules there and in
appointment_list), writes through the services. An appointment the viewer may not see is a 404.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.decorators import role_required
from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.core import dates
from apps.core.htmx import is_partial
from apps.crm.models import Trainer
from apps.crm.selectors import client_list, trainer_for_user
from apps.scheduling.appointments.selectors import appointment_list
from apps.scheduling.appointments.services import SchedulingConflict, appointment_book
from apps.scheduling.calendar import selectors
from apps.scheduling.calendar.forms import AppointmentForm, MoveForm, local_instant
from apps.scheduling.calendar.selectors import (
    DAY,
    ROOMS,
    TRAINERS,
    VIEWS,
    WEEK,
    CalendarFilters,
)
from apps.scheduling.calendar.services import appointment_reschedule
from apps.scheduling.models import Appointment
from apps.tenants.selectors import gym_zone

STAFF = (Role.OWNER, Role.MANAGER, Role.TRAINER, Role.FRONT_DESK)
ALL = "all"


def _pick(queryset: Any, value: str | None) -> Any:
    if not value or not value.isdigit():
        return None
    return queryset.filter(pk=int(value)).first()


def _filters(viewer: User, params: QueryDict, zone: ZoneInfo) -> CalendarFilters:
    """The calendar's state from the query (or the move form's copy of it). A trainer who
    names no trainer sees their own calendar; "all" (or empty) shows everyone's."""
    view = params.get("view") if params.get("view") in VIEWS else WEEK
    anchor = dates.parse_day(params.get("date")) or timezone.localdate(timezone=zone)
    if "trainer" not in params and has_role(viewer, Role.TRAINER):
        trainer = trainer_for_user(viewer)
    else:
        trainer = _pick(selectors.calendar_trainers(viewer=viewer), params.get("trainer"))
    room = _pick(selectors.calendar_rooms(), params.get("room"))
    location = None if room else _pick(selectors.calendar_locations(), params.get("location"))
    return CalendarFilters(view=view, anchor=anchor, trainer=trainer, room=room, location=location)


def _state(filters: CalendarFilters, **changes: Any) -> dict[str, str]:
    state = {
        "view": filters.view,
        "date": filters.anchor.isoformat(),
        "trainer": str(filters.trainer.pk) if filters.trainer else ALL,
        "room": str(filters.room.pk) if filters.room else "",
        "location": str(filters.location.pk) if filters.location else "",
    }
    state.update({key: str(value) for key, value in changes.items()})
    return {key: value for key, value in state.items() if value}


def _calendar_url(filters: CalendarFilters, **changes: Any) -> str:
    return f"{reverse('scheduling:calendar')}?{urlencode(_state(filters, **changes))}"


def _calendar_context(
    request: HttpRequest, filters: CalendarFilters, zone: ZoneInfo, **extra: Any
) -> dict[str, Any]:
    viewer: User = request.user  # type: ignore[assignment]
    today = timezone.localdate(timezone=zone)
    grid = selectors.calendar_grid(viewer=viewer, filters=filters)
    return {
        "filters": filters,
        "grid": grid,
        "state": _state(filters),
        "state_query": urlencode(_state(filters)),
        "today": today,
        "zone_name": str(zone),
        "trainers": list(selectors.calendar_trainers(viewer=viewer)),
        "rooms": list(selectors.calendar_rooms()),
        "locations": list(selectors.calendar_locations()),
        "trainer_value": str(filters.trainer.pk) if filters.trainer else ALL,
        # From the first day shown: a week's links name its Monday, whatever day was asked for.
        "prev_url": _calendar_url(filters, date=filters.days[0] - filters.step),
        "next_url": _calendar_url(filters, date=filters.days[0] + filters.step),
        "today_url": _calendar_url(filters, date=today),
        "view_links": [
            (DAY, _("Day"), _calendar_url(filters, view=DAY)),
            (WEEK, _("Week"), _calendar_url(filters, view=WEEK)),
            (TRAINERS, _("By trainer"), _calendar_url(filters, view=TRAINERS)),
            (ROOMS, _("By room"), _calendar_url(filters, view=ROOMS)),
        ],
        "can_override": is_management(viewer),
        **extra,
    }


def _render_calendar(
    request: HttpRequest, filters: CalendarFilters, zone: ZoneInfo, **extra: Any
) -> HttpResponse:
    template = "scheduling/_calendar.html" if is_partial(request) else "scheduling/calendar.html"
    # Templates print datetimes in the active zone: the gym's, whatever the server's.
    with timezone.override(zone):
        response = render(request, template, _calendar_context(request, filters, zone, **extra))
    patch_vary_headers(response, ["HX-Request"])
    return response


@role_required(*STAFF)
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    zone = gym_zone()
    filters = _filters(request.user, request.GET, zone)  # type: ignore[arg-type]
    return _render_calendar(request, filters, zone)


def _appointment_or_404(viewer: User, pk: int) -> Appointment:
    appointment = appointment_list(viewer=viewer).filter(pk=pk).first()
    if appointment is None:
        raise Http404
    return appointment


def conflict_message(conflict: SchedulingConflict, zone: ZoneInfo) -> str:
    """The service's message, with the other appointment's times in the gym's zone."""
    other = conflict.other
    if other is None:
        return conflict.message
    times = {
        "start": f"{other.starts_at.astimezone(zone):%Y-%m-%d %H:%M}",
        "end": f"{other.ends_at.astimezone(zone):%H:%M}",
    }
    if conflict.field == "room":
        return _("The room is already booked from %(start)s to %(end)s.") % times
    return _("The trainer is already booked from %(start)s to %(end)s.") % times


@role_required(*STAFF)
@require_http_methods(["GET", "POST"])
def appointment_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move an appointment to a local day and time. HTMX (the drag and drop) gets the calendar
    back with the outcome on top; a plain form post goes back to the calendar or shows its
    errors."""
    viewer: User = request.user  # type: ignore[assignment]
    zone = gym_zone()
    appointment = _appointment_or_404(viewer, pk)
    params = request.POST if request.method == "POST" else request.GET
    filters = _filters(viewer, params, zone)
    form = MoveForm(request.POST if request.method == "POST" else None)
    if not form.is_bound:
        local = appointment.starts_at.astimezone(zone)
        form = MoveForm(initial={"new_date": local.date(), "new_time": local.time()})
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        starts_at = local_instant(data["new_date"], data["new_time"], zone)
        try:
            appointment = appointment_reschedule(
                actor=viewer,
                appointment=appointment,
                starts_at=starts_at,
                override_availability=data["override"],
            )
        except SchedulingConflict as conflict:
            error = conflict_message(conflict, zone)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        except PermissionDenied as exc:
            error = str(exc) or _("You cannot move this appointment.")
        else:
            local = appointment.starts_at.astimezone(zone)
            notice = _("Moved %(client)s to %(when)s.") % {
                "client": appointment.client.full_name,
                "when": f"{local:%Y-%m-%d %H:%M}",
            }
            if is_partial(request):
                return _render_calendar(request, filters, zone, notice=notice)
            messages.success(request, notice)
            return HttpResponseRedirect(_calendar_url(filters, date=local.date()))
    elif form.is_bound:
        error = _("Choose a day and a start time.")
    if is_partial(request):
        return _render_calendar(request, filters, zone, error=error)
    with timezone.override(zone):
        return render(
            request,
            "scheduling/calendar_move.html",
            {
                "appointment": appointment,
                "form": form,
                "error": error,
                "state": _state(filters),
                "calendar_url": _calendar_url(filters),
                "can_override": is_management(viewer),
            },
            status=400 if error else 200,
        )


def _booking_trainers(viewer: User) -> Any:
    trainers = selectors.calendar_trainers(viewer=viewer)
    if has_role(viewer, Role.TRAINER):
        return trainers.filter(user=viewer)
    return trainers


@role_required(*STAFF)
@require_http_methods(["GET", "POST"])
def appointment_new(request: HttpRequest) -> HttpResponse:
    """Book a 1:1 session from the calendar (a trainer: with their own clients only)."""
    viewer: User = request.user  # type: ignore[assignment]
    zone = gym_zone()
    trainers = _booking_trainers(viewer)
    initial: dict[str, Any] = {"duration_minutes": 60}
    initial["day"] = dates.parse_day(request.GET.get("date")) or timezone.localdate(timezone=zone)
    if request.GET.get("time"):
        initial["start"] = request.GET["time"]
    own: Trainer | None = trainer_for_user(viewer) if has_role(viewer, Role.TRAINER) else None
    chosen = own or _pick(trainers, request.GET.get("trainer"))
    if chosen is not None:
        initial["trainer"] = chosen.pk
    form = AppointmentForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        trainers=trainers,
        clients=client_list(viewer=viewer).order_by("last_name", "first_name", "pk"),
        rooms=selectors.calendar_rooms(),
        allow_override=is_management(viewer),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        starts_at = local_instant(data["day"], data["start"], zone)
        try:
            appointment = appointment_book(
                actor=viewer,
                trainer=data["trainer"],
                client=data["client"],
                room=data["room"],
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=data["duration_minutes"]),
                video_link=data["video_link"],
                notes=data["notes"],
                override_availability=data.get("override", False),
                override_membership=data.get("override_membership", False),
            )
        except SchedulingConflict as conflict:
            form.add_error(None, conflict_message(conflict, zone))
        except ValidationError as exc:
            form.add_service_errors(exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("You cannot book this appointment."))
        else:
            messages.success(
                request,
                _("%(client)s is booked with %(trainer)s.")
                % {"client": appointment.client.full_name, "trainer": appointment.trainer.name},
            )
            query = urlencode({"view": DAY, "date": data["day"].isoformat()})
            return HttpResponseRedirect(f"{reverse('scheduling:calendar')}?{query}")
    status = 400 if request.method == "POST" else 200
    with timezone.override(zone):
        return render(
            request,
            "scheduling/calendar_appointment_form.html",
            {"form": form, "calendar_url": reverse("scheduling:calendar")},
            status=status,
        )
