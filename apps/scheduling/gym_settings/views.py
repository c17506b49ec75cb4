"""Gym settings pages (/settings/): the gym's profile and opening hours, its locations and rooms,
and trainers' weekly availability.

Thin views: reads through the selectors of this package and apps.tenants.selectors, writes
through the services of this package and apps.tenants.services (which check rights and audit).
Owners and managers use every page; a trainer only their own availability. A row the viewer may
not see is a 404. Forms posted by HTMX get the page's section back; without HTMX, the page
redirects after a write (or shows the form with its errors).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import Role
from apps.accounts.roles import is_management
from apps.core.forms import add_service_errors
from apps.core.htmx import is_partial
from apps.crm.models import Trainer
from apps.scheduling.gym_settings import selectors, services
from apps.scheduling.gym_settings.forms import (
    AvailabilityExceptionForm,
    AvailabilityForm,
    GymIdentityForm,
    GymProfileForm,
    LocationForm,
    OpeningHoursForm,
    RoomForm,
    SpecialDayForm,
    WeekHoursForm,
)
from apps.scheduling.models import Availability, AvailabilityException
from apps.tenants import selectors as gym_selectors
from apps.tenants import services as gym_services
from apps.tenants.models import Gym, OpeningHours, SpecialDay

MANAGEMENT = (Role.OWNER, Role.MANAGER)
AVAILABILITY_EDITORS = (Role.OWNER, Role.MANAGER, Role.TRAINER)


def _get_or_404(getter: Any, **kwargs: Any) -> Any:
    try:
        return getter(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


def _gym() -> Gym:
    return gym_selectors.current_gym()


def _section(
    request: HttpRequest, *, page: str, partial: str, context: dict[str, Any]
) -> HttpResponse:
    """The page, or only its section when HTMX asks (the same URL: caches keep them apart)."""
    response = render(request, partial if is_partial(request) else page, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Index and profile ----------------------------------------------------------------------


@role_required(*MANAGEMENT)
@require_http_methods(["GET"])
def index(request: HttpRequest) -> HttpResponse:
    gym = _gym()
    context = {
        "gym": gym,
        "week": gym_selectors.gym_opening_hours(gym),
        "location_count": selectors.location_list(viewer=request.user).count(),
        "trainer_count": selectors.availability_trainer_list(viewer=request.user).count(),
    }
    return render(request, "gym_settings/index.html", context)


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    gym = _gym()
    form = GymProfileForm(
        request.POST or None, initial={"name": gym.name, "time_zone": gym.time_zone}
    )
    if request.method == "POST" and form.is_valid():
        try:
            gym_services.gym_profile_update(actor=request.user, gym=gym, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return HttpResponseRedirect(reverse("gym_settings:profile"))
    return render(request, "gym_settings/profile.html", {"form": form, "gym": gym})


# --- Identity -------------------------------------------------------------------------------

IDENTITY_FIELDS = gym_services.IDENTITY_FIELDS


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def identity(request: HttpRequest) -> HttpResponse:
    """Logo, brand colour, address, contact details, currency, default units and language:
    one form, one save."""
    gym = _gym()
    form = GymIdentityForm(
        request.POST or None,
        request.FILES or None,
        initial={name: getattr(gym, name) for name in IDENTITY_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                gym_services.gym_identity_update(
                    actor=request.user,
                    gym=gym,
                    **{name: data[name] for name in IDENTITY_FIELDS},
                )
                if data["logo"]:
                    gym_services.gym_logo_set(
                        actor=request.user, gym=gym, image=data["logo"], size=data["logo"].size
                    )
                elif data["remove_logo"]:
                    gym_services.gym_logo_remove(actor=request.user, gym=gym)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return HttpResponseRedirect(reverse("gym_settings:identity"))
    return render(request, "gym_settings/identity.html", {"form": form, "gym": gym})


# --- Opening hours --------------------------------------------------------------------------


def _hours_context(
    gym: Gym,
    hours_form: OpeningHoursForm | None = None,
    special_form: SpecialDayForm | None = None,
    week_form: WeekHoursForm | None = None,
    week_errors: list[str] | None = None,
) -> dict[str, Any]:
    week = gym_selectors.gym_opening_hours(gym)
    return {
        "gym": gym,
        "week": week,
        "week_form": week_form or WeekHoursForm(week=week),
        "week_errors": week_errors or [],
        "special_days": gym_selectors.special_day_list(
            gym=gym, since=timezone.localdate(timezone=ZoneInfo(gym.time_zone))
        ),
        "hours_form": hours_form or OpeningHoursForm(prefix="hours"),
        "special_form": special_form or SpecialDayForm(prefix="special"),
    }


def _hours_response(request: HttpRequest, gym: Gym, **forms: Any) -> HttpResponse:
    return _section(
        request,
        page="gym_settings/hours.html",
        partial="gym_settings/_hours.html",
        context=_hours_context(gym, **forms),
    )


def _after_write(request: HttpRequest, url_name: str, *args: Any) -> HttpResponse | None:
    """Without HTMX, a write redirects (post/redirect/get); with HTMX the caller renders."""
    if is_partial(request):
        return None
    messages.success(request, _("Changes saved."))
    return HttpResponseRedirect(reverse(url_name, args=args))


@role_required(*MANAGEMENT)
@require_http_methods(["GET"])
def hours(request: HttpRequest) -> HttpResponse:
    return _hours_response(request, _gym())


def _hours_write(
    request: HttpRequest, form: forms.Form, service: Callable[..., Any], form_name: str
) -> HttpResponse:
    """Add opening hours or a special day through `service`; errors go back on the form,
    shown as `form_name` on the opening hours page."""
    gym = _gym()
    if form.is_valid():
        try:
            service(actor=request.user, gym=gym, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _after_write(request, "gym_settings:hours") or _hours_response(request, gym)
    return _hours_response(request, gym, **{form_name: form})


@role_required(*MANAGEMENT)
@require_POST
def hours_week(request: HttpRequest) -> HttpResponse:
    """The whole week's opening hours in one save."""
    gym = _gym()
    form = WeekHoursForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        try:
            gym_services.opening_hours_week_save(actor=request.user, gym=gym, week=form.week())
        except ValidationError as exc:
            errors = form.add_service_errors(exc)
        else:
            return _after_write(request, "gym_settings:hours") or _hours_response(request, gym)
    return _hours_response(request, gym, week_form=form, week_errors=errors)


@role_required(*MANAGEMENT)
@require_POST
def hours_add(request: HttpRequest) -> HttpResponse:
    form = OpeningHoursForm(request.POST, prefix="hours")
    return _hours_write(request, form, gym_services.opening_hours_add, "hours_form")


@role_required(*MANAGEMENT)
@require_POST
def hours_delete(request: HttpRequest, pk: int) -> HttpResponse:
    gym = _gym()
    hours = _get_or_404(OpeningHours.objects.get, gym=gym, pk=pk)
    gym_services.opening_hours_delete(actor=request.user, hours=hours)
    return _after_write(request, "gym_settings:hours") or _hours_response(request, gym)


@role_required(*MANAGEMENT)
@require_POST
def special_day_add(request: HttpRequest) -> HttpResponse:
    form = SpecialDayForm(request.POST, prefix="special")
    return _hours_write(request, form, gym_services.special_day_save, "special_form")


@role_required(*MANAGEMENT)
@require_POST
def special_day_delete(request: HttpRequest, pk: int) -> HttpResponse:
    gym = _gym()
    day = _get_or_404(SpecialDay.objects.get, gym=gym, pk=pk)
    gym_services.special_day_delete(actor=request.user, day=day)
    return _after_write(request, "gym_settings:hours") or _hours_response(request, gym)


# --- Locations and rooms --------------------------------------------------------------------


def _locations_response(request: HttpRequest, error: str = "") -> HttpResponse:
    context = {"locations": selectors.location_list(viewer=request.user), "error": error}
    return _section(
        request,
        page="gym_settings/location_list.html",
        partial="gym_settings/_locations.html",
        context=context,
    )


@role_required(*MANAGEMENT)
@require_http_methods(["GET"])
def location_list(request: HttpRequest) -> HttpResponse:
    return _locations_response(request)


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def location_create(request: HttpRequest) -> HttpResponse:
    form = LocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.location_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Location added."))
            return HttpResponseRedirect(reverse("gym_settings:location_list"))
    return render(request, "gym_settings/location_form.html", {"form": form, "location": None})


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def location_edit(request: HttpRequest, pk: int) -> HttpResponse:
    location = _get_or_404(selectors.location_get, viewer=request.user, pk=pk)
    form = LocationForm(
        request.POST or None, initial={"name": location.name, "address": location.address}
    )
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            if changed:
                services.location_update(actor=request.user, location=location, **changed)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return HttpResponseRedirect(reverse("gym_settings:location_list"))
    return render(request, "gym_settings/location_form.html", {"form": form, "location": location})


@role_required(*MANAGEMENT)
@require_POST
def location_delete(request: HttpRequest, pk: int) -> HttpResponse:
    location = _get_or_404(selectors.location_get, viewer=request.user, pk=pk)
    try:
        services.location_delete(actor=request.user, location=location)
    except ValidationError as exc:
        if is_partial(request):
            return _locations_response(request, error=" ".join(exc.messages))
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("gym_settings:location_list"))
    return _after_write(request, "gym_settings:location_list") or _locations_response(request)


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def room_create(request: HttpRequest, location_pk: int) -> HttpResponse:
    location = _get_or_404(selectors.location_get, viewer=request.user, pk=location_pk)
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.room_create(actor=request.user, location=location, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Room added."))
            return HttpResponseRedirect(reverse("gym_settings:location_list"))
    return render(
        request,
        "gym_settings/room_form.html",
        {"form": form, "location": location, "room": None},
    )


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def room_edit(request: HttpRequest, pk: int) -> HttpResponse:
    room = _get_or_404(selectors.room_get, viewer=request.user, pk=pk)
    form = RoomForm(request.POST or None, initial={"name": room.name, "capacity": room.capacity})
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            if changed:
                services.room_update(actor=request.user, room=room, **changed)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return HttpResponseRedirect(reverse("gym_settings:location_list"))
    return render(
        request,
        "gym_settings/room_form.html",
        {"form": form, "location": room.location, "room": room},
    )


@role_required(*MANAGEMENT)
@require_POST
def room_delete(request: HttpRequest, pk: int) -> HttpResponse:
    room = _get_or_404(selectors.room_get, viewer=request.user, pk=pk)
    try:
        services.room_delete(actor=request.user, room=room)
    except ValidationError as exc:
        if is_partial(request):
            return _locations_response(request, error=" ".join(exc.messages))
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("gym_settings:location_list"))
    return _after_write(request, "gym_settings:location_list") or _locations_response(request)


# --- Trainer availability -------------------------------------------------------------------


@role_required(*AVAILABILITY_EDITORS)
@require_http_methods(["GET"])
def availability_list(request: HttpRequest) -> HttpResponse:
    """Management picks a trainer; a trainer goes straight to their own week."""
    trainers = selectors.availability_trainer_list(viewer=request.user)
    if not is_management(request.user):
        own = trainers.first()
        if own is None:
            raise Http404
        return HttpResponseRedirect(reverse("gym_settings:availability", args=[own.pk]))
    return render(request, "gym_settings/availability_list.html", {"trainers": trainers})


def _trainer_or_404(request: HttpRequest, pk: int) -> Trainer:
    return _get_or_404(selectors.availability_trainer_get, viewer=request.user, pk=pk)


def _availability_response(
    request: HttpRequest,
    trainer: Trainer,
    window_form: AvailabilityForm | None = None,
    exception_form: AvailabilityExceptionForm | None = None,
) -> HttpResponse:
    zone = ZoneInfo(_gym().time_zone)
    windows = list(selectors.availability_list(trainer=trainer))
    week = [
        {"name": WEEKDAYS[day], "windows": [w for w in windows if w.weekday == day]}
        for day in range(7)
    ]
    exceptions = selectors.availability_exception_list(trainer=trainer).filter(
        ends_at__gte=timezone.now()
    )
    context = {
        "trainer": trainer,
        "week": week,
        "exceptions": exceptions,
        "zone": zone.key,
        "window_form": window_form or AvailabilityForm(prefix="window"),
        "exception_form": exception_form
        or AvailabilityExceptionForm(prefix="exception", zone=zone),
        "can_pick_trainer": is_management(request.user),
    }
    return _section(
        request,
        page="gym_settings/availability.html",
        partial="gym_settings/_availability.html",
        context=context,
    )


@role_required(*AVAILABILITY_EDITORS)
@require_http_methods(["GET"])
def availability(request: HttpRequest, pk: int) -> HttpResponse:
    return _availability_response(request, _trainer_or_404(request, pk))


@role_required(*AVAILABILITY_EDITORS)
@require_POST
def availability_add(request: HttpRequest, pk: int) -> HttpResponse:
    trainer = _trainer_or_404(request, pk)
    form = AvailabilityForm(request.POST, prefix="window")
    if form.is_valid():
        try:
            services.availability_add(actor=request.user, trainer=trainer, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _after_write(
                request, "gym_settings:availability", trainer.pk
            ) or _availability_response(request, trainer)
    return _availability_response(request, trainer, window_form=form)


@role_required(*AVAILABILITY_EDITORS)
@require_POST
def availability_delete(request: HttpRequest, pk: int, window_pk: int) -> HttpResponse:
    trainer = _trainer_or_404(request, pk)
    window = _get_or_404(
        Availability.objects.select_related("trainer").get, trainer=trainer, pk=window_pk
    )
    services.availability_delete(actor=request.user, window=window)
    return _after_write(request, "gym_settings:availability", trainer.pk) or _availability_response(
        request, trainer
    )


@role_required(*AVAILABILITY_EDITORS)
@require_POST
def exception_add(request: HttpRequest, pk: int) -> HttpResponse:
    trainer = _trainer_or_404(request, pk)
    zone = ZoneInfo(_gym().time_zone)
    form = AvailabilityExceptionForm(request.POST, prefix="exception", zone=zone)
    if form.is_valid():
        try:
            services.availability_exception_add(
                actor=request.user, trainer=trainer, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _after_write(
                request, "gym_settings:availability", trainer.pk
            ) or _availability_response(request, trainer)
    return _availability_response(request, trainer, exception_form=form)


@role_required(*AVAILABILITY_EDITORS)
@require_POST
def exception_delete(request: HttpRequest, pk: int, exception_pk: int) -> HttpResponse:
    trainer = _trainer_or_404(request, pk)
    exception = _get_or_404(
        AvailabilityException.objects.select_related("trainer").get,
        trainer=trainer,
        pk=exception_pk,
    )
    services.availability_exception_delete(actor=request.user, exception=exception)
    return _after_write(request, "gym_settings:availability", trainer.pk) or _availability_response(
        request, trainer
    )
