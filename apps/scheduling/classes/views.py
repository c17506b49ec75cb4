"""Class pages of the staff app, under /schedule/classes/: the week's classes and the weekly
timetable, class types, the timetable builder, editing or cancelling a class, and a class's
roster with one-tap check-in.

Thin views: reads through apps.scheduling.classes.selectors (which decide who sees which class),
writes through its services (which check rights, lock and audit). Owners and managers manage
classes; the front desk opens every roster and checks clients in; a trainer sees and checks in
their own classes. A class the viewer may not open is a 404.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import Role
from apps.accounts.roles import has_role, is_management
from apps.core.dates import parse_day
from apps.core.forms import add_service_errors
from apps.core.htmx import is_partial
from apps.crm.selectors import client_list
from apps.scheduling.checkin import selectors as checkin_selectors
from apps.scheduling.classes import selectors, services, timetable
from apps.scheduling.classes.forms import (
    ClassTypeForm,
    OccurrenceCancelForm,
    OccurrenceEditForm,
    RosterBookForm,
    TimetableForm,
)
from apps.scheduling.classes.recurrence import rule_weekdays, weekdays_label
from apps.scheduling.models import ClassBooking, ClassBookingStatus, ClassOccurrence, ClassType
from apps.tenants.selectors import gym_today, gym_zone

MANAGEMENT = (Role.OWNER, Role.MANAGER)
STAFF = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK, Role.TRAINER)


def _occurrence_or_404(request: HttpRequest, pk: int) -> ClassOccurrence:
    try:
        return selectors.staff_occurrence_get(viewer=request.user, pk=pk)
    except ClassOccurrence.DoesNotExist as exc:
        raise Http404 from exc


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment, gym_zone())


# --- The week's classes and the weekly timetable ---------------------------------------------


@role_required(*STAFF)
@require_http_methods(["GET"])
def class_list(request: HttpRequest) -> HttpResponse:
    """The classes of one week (Monday to Sunday), by day, with bookings and the waitlist; for
    management, the weekly timetable they come from too."""
    today = gym_today()
    chosen = parse_day(request.GET.get("date")) or today
    monday = chosen - timedelta(days=chosen.weekday())
    sunday = monday + timedelta(days=6)
    occurrences = selectors.staff_occurrence_list(
        viewer=request.user, date_from=monday, date_to=sunday
    )
    days = [
        (day, list(classes))
        for day, classes in groupby(occurrences, key=lambda o: _local(o.starts_at).date())
    ]
    timetable = [
        {"series": series, "days": weekdays_label(rule_weekdays(series.rrule))}
        for series in selectors.series_list(viewer=request.user, today=today)
    ]
    context = {
        "today": today,
        "monday": monday,
        "sunday": sunday,
        "previous_week": monday - timedelta(days=7),
        "next_week": monday + timedelta(days=7),
        "days": days,
        "timetable": timetable,
    }
    return render(request, "scheduling/classes/class_list.html", context)


# --- Class types -----------------------------------------------------------------------------


@role_required(*MANAGEMENT)
@require_http_methods(["GET"])
def class_type_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "scheduling/classes/class_type_list.html",
        {"class_types": selectors.class_type_list()},
    )


def _class_type_form(
    request: HttpRequest, form: ClassTypeForm, class_type: ClassType | None
) -> HttpResponse:
    return render(
        request,
        "scheduling/classes/class_type_form.html",
        {"form": form, "class_type": class_type},
    )


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def class_type_create(request: HttpRequest) -> HttpResponse:
    form = ClassTypeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            timetable.class_type_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Class type saved."))
            return HttpResponseRedirect(reverse("scheduling:class_type_list"))
    return _class_type_form(request, form, None)


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def class_type_update(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        class_type = selectors.class_type_get(pk=pk)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    form = ClassTypeForm(request.POST or None, instance=class_type)
    if request.method == "POST" and form.is_valid():
        try:
            timetable.class_type_update(
                actor=request.user, class_type=class_type, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Class type saved."))
            return HttpResponseRedirect(reverse("scheduling:class_type_list"))
    return _class_type_form(request, form, class_type)


# --- The timetable builder -------------------------------------------------------------------


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def timetable_create(request: HttpRequest) -> HttpResponse:
    """A weekly class from ticked days and a time; its next weeks of classes are created at
    once. The rule is built by the form, never typed."""
    today = gym_today()
    initial: dict[str, Any] = {"starts_on": today, "duration_minutes": 60, "capacity": 12}
    chosen_type = request.GET.get("class_type")
    if chosen_type and chosen_type.isdigit():
        class_type = ClassType.objects.filter(pk=chosen_type).first()
        if class_type is not None:
            initial.update(
                class_type=class_type,
                duration_minutes=class_type.duration_minutes,
                capacity=class_type.default_capacity or 12,
            )
    form = TimetableForm(request.POST or None, today=today, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("weekdays")
        try:
            series = timetable.series_create(actor=request.user, **data)
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"rrule": "weekdays"})
        else:
            count = series.occurrences.count()
            messages.success(
                request,
                _("Timetable saved: %(count)s classes of %(name)s are on the schedule.")
                % {"count": count, "name": series.class_type.name},
            )
            return HttpResponseRedirect(
                f"{reverse('scheduling:class_list')}?date={series.starts_on.isoformat()}"
            )
    return render(
        request,
        "scheduling/classes/timetable_form.html",
        {"form": form, "has_class_types": ClassType.objects.exists()},
    )


# --- One class: roster, check-in, edit, cancel -----------------------------------------------


def _row_context(occurrence: ClassOccurrence, now: datetime) -> dict[str, Any]:
    """What each roster row offers, from its class: check-in once it opens, a no-show once
    the class started, a cancel before it starts (late inside the class type's window)."""
    live = not occurrence.is_cancelled
    return {
        # A button that could only answer "too early" is not offered; the time it opens is.
        "can_check_in": live and now >= occurrence.starts_at - services.CHECK_IN_OPENS,
        "can_mark_no_show": live and now >= occurrence.starts_at,
        "can_cancel": live and now < occurrence.starts_at,
        "late_cancel": now
        > occurrence.starts_at - timedelta(minutes=occurrence.class_type.late_cancel_minutes),
    }


def _book_form(request: HttpRequest, data: Any = None) -> RosterBookForm:
    return RosterBookForm(
        data,
        clients=client_list(viewer=request.user, prefetch_trainers=False),
        allow_override=is_management(request.user),
    )


def _roster_context(
    request: HttpRequest,
    occurrence: ClassOccurrence,
    *,
    form: RosterBookForm | None = None,
    results: list[Any] | None = None,
) -> dict[str, Any]:
    holding, waiting, expired = selectors.roster(occurrence=occurrence)
    now = timezone.now()
    search = request.GET.get("q", "").strip()[:100]
    if results is None:
        results = selectors.roster_bookable_clients(
            viewer=request.user, occurrence=occurrence, search=search
        )
    return {
        "occurrence": occurrence,
        "local_start": _local(occurrence.starts_at),
        "local_end": _local(occurrence.ends_at),
        "holding": holding,
        "waiting": waiting,
        "expired": expired,
        "spots_left": max(occurrence.capacity - len(holding), 0),
        "check_in_opens": (
            None
            if occurrence.is_cancelled
            else _local(occurrence.starts_at - services.CHECK_IN_OPENS)
        ),
        # Staff add clients until the class starts (the class type's booking window is for
        # clients booking themselves; class_book still says what it allows).
        "can_book": not occurrence.is_cancelled and now < occurrence.ends_at,
        "book_form": form or _book_form(request),
        "search": search,
        "results": results,
        "can_waive": has_role(request.user, Role.OWNER, Role.MANAGER, Role.FRONT_DESK),
        **_row_context(occurrence, now),
    }


@role_required(*STAFF)
@require_http_methods(["GET"])
def class_roster(request: HttpRequest, pk: int) -> HttpResponse:
    """A class's roster; `?q=` searches clients to book (the search's answer without HTMX)."""
    occurrence = _occurrence_or_404(request, pk)
    return render(request, "scheduling/classes/roster.html", _roster_context(request, occurrence))


@role_required(*STAFF)
@require_http_methods(["GET"])
def class_book_search(request: HttpRequest, pk: int) -> HttpResponse:
    """The roster's client search as you type (HTMX): clients the viewer may book, each a
    button of the booking form."""
    occurrence = _occurrence_or_404(request, pk)
    if not is_partial(request):
        query = request.GET.urlencode()
        url = reverse("scheduling:class_roster", args=[occurrence.pk])
        return HttpResponseRedirect(f"{url}?{query}#book" if query else url)
    search = request.GET.get("q", "").strip()[:100]
    return render(
        request,
        "scheduling/classes/_roster_book_results.html",
        {
            "occurrence": occurrence,
            "search": search,
            "results": selectors.roster_bookable_clients(
                viewer=request.user, occurrence=occurrence, search=search
            ),
        },
    )


@role_required(*STAFF)
@require_POST
def class_book_client(request: HttpRequest, pk: int) -> HttpResponse:
    """Book a client from the roster through class_book: a spot, or the waitlist when the
    class is full. A refusal is the roster again with the reason on the form (400), the chosen
    client still offered (a manager may tick the membership override and book again)."""
    occurrence = _occurrence_or_404(request, pk)
    form = _book_form(request, request.POST)
    if form.is_valid():
        client = form.cleaned_data["client"]
        try:
            booking = services.class_book(
                actor=request.user,
                occurrence=occurrence,
                client=client,
                override_membership=form.cleaned_data.get("override_membership", False),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("You cannot book this client."))
        else:
            if booking.status == ClassBookingStatus.WAITLISTED:
                messages.success(
                    request,
                    _("The class is full: %(name)s is number %(position)s on the waitlist.")
                    % {"name": client.full_name, "position": booking.waitlist_position},
                )
            else:
                messages.success(request, _("%(name)s is booked.") % {"name": client.full_name})
            return HttpResponseRedirect(reverse("scheduling:class_roster", args=[occurrence.pk]))
    chosen = form.cleaned_data.get("client") if hasattr(form, "cleaned_data") else None
    return render(
        request,
        "scheduling/classes/roster.html",
        _roster_context(request, occurrence, form=form, results=[chosen] if chosen else []),
        status=400,
    )


def _booking_or_404(request: HttpRequest, pk: int) -> ClassBooking:
    try:
        return selectors.staff_booking_get(viewer=request.user, pk=pk)
    except ClassBooking.DoesNotExist as exc:
        raise Http404 from exc


def _refusal(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You cannot do that.")


@role_required(*STAFF)
@require_POST
def class_booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a booking or take a client off the waitlist, from the roster (class_cancel:
    inside the late-cancel window it is a late cancel unless the desk or a manager waives it).
    Back to the roster, whose counts and waitlist have changed."""
    booking = _booking_or_404(request, pk)
    name = booking.client.full_name
    try:
        booking = services.class_cancel(
            actor=request.user,
            booking=booking,
            waive_late=request.POST.get("waive_late") == "1",
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _refusal(exc))
    else:
        if booking.status == ClassBookingStatus.LATE_CANCELLED:
            messages.success(request, _("%(name)s's booking is cancelled late.") % {"name": name})
        else:
            messages.success(request, _("%(name)s's booking is cancelled.") % {"name": name})
    return HttpResponseRedirect(reverse("scheduling:class_roster", args=[booking.occurrence_id]))


@role_required(*STAFF)
@require_POST
def class_mark_no_show(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a booked client who did not come, once the class started (booking_mark_no_show,
    which records the strike): the row comes back (HTMX), else the roster with a message."""
    booking = _booking_or_404(request, pk)
    error = ""
    try:
        booking = services.booking_mark_no_show(actor=request.user, booking=booking)
    except (ValidationError, PermissionDenied) as exc:
        error = _refusal(exc)
    if is_partial(request):
        return render(
            request,
            "scheduling/classes/_roster_row.html",
            {
                "booking": booking,
                "error": error,
                "can_waive": has_role(request.user, Role.OWNER, Role.MANAGER, Role.FRONT_DESK),
                **_row_context(booking.occurrence, timezone.now()),
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request, _("%(name)s is marked as a no-show.") % {"name": booking.client.full_name}
        )
    return HttpResponseRedirect(reverse("scheduling:class_roster", args=[booking.occurrence_id]))


@role_required(*STAFF)
@require_POST
def class_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    """One tap on the roster: the booking is checked in and its row comes back (HTMX), else
    the roster again with a message."""
    try:
        booking: ClassBooking = checkin_selectors.checkin_class_bookings(viewer=request.user).get(
            pk=pk
        )
    except ClassBooking.DoesNotExist as exc:
        raise Http404 from exc
    error = ""
    try:
        booking = services.class_check_in(actor=request.user, booking=booking)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if is_partial(request):
        return render(
            request,
            "scheduling/classes/_roster_row.html",
            {
                "booking": booking,
                "error": error,
                "can_waive": has_role(request.user, Role.OWNER, Role.MANAGER, Role.FRONT_DESK),
                **_row_context(booking.occurrence, timezone.now()),
                # The row that was tapped keeps its button, with the reason beside it.
                "can_check_in": True,
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("%(name)s is checked in.") % {"name": booking.client.full_name})
    return HttpResponseRedirect(reverse("scheduling:class_roster", args=[booking.occurrence_id]))


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def class_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change one class, or this one and every later class of its timetable."""
    occurrence = _occurrence_or_404(request, pk)
    start, end = _local(occurrence.starts_at), _local(occurrence.ends_at)
    initial = {
        "scope": OccurrenceEditForm.SCOPE_THIS,
        "day": start.date(),
        "local_start_time": start.time().replace(second=0, microsecond=0),
        "duration_minutes": int((end - start).total_seconds() // 60),
        "trainer": occurrence.trainer,
        "room": occurrence.room,
        "capacity": occurrence.capacity,
    }
    in_series = occurrence.series_id is not None
    form = OccurrenceEditForm(request.POST or None, initial=initial, in_series=in_series)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            occurrence = _save_edit(request, occurrence, data, in_series=in_series)
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"starts_at": "local_start_time"})
        else:
            messages.success(request, _("Class updated."))
            return HttpResponseRedirect(reverse("scheduling:class_roster", args=[occurrence.pk]))
    return render(
        request,
        "scheduling/classes/class_edit.html",
        {"form": form, "occurrence": occurrence, "local_start": start},
    )


def _save_edit(
    request: HttpRequest, occurrence: ClassOccurrence, data: dict[str, Any], *, in_series: bool
) -> ClassOccurrence:
    fields = {
        "trainer": data["trainer"],
        "room": data["room"],
        "capacity": data["capacity"],
    }
    if in_series and data.get("scope") == OccurrenceEditForm.SCOPE_FOLLOWING:
        return timetable.occurrence_update_following(
            actor=request.user,
            occurrence=occurrence,
            local_start_time=data["local_start_time"],
            duration_minutes=data["duration_minutes"],
            **fields,
        )
    starts_at = datetime.combine(data["day"], data["local_start_time"], tzinfo=gym_zone())
    return services.occurrence_update(
        actor=request.user,
        occurrence=occurrence,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=data["duration_minutes"]),
        **fields,
    )


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def class_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then cancel the class; its booked and waitlisted clients are emailed."""
    occurrence = _occurrence_or_404(request, pk)
    form = OccurrenceCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            timetable.occurrence_cancel(
                actor=request.user, occurrence=occurrence, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The class is cancelled and its clients are told."))
            return HttpResponseRedirect(reverse("scheduling:class_roster", args=[occurrence.pk]))
    holding, waiting, _expired = selectors.roster(occurrence=occurrence)
    return render(
        request,
        "scheduling/classes/class_cancel.html",
        {
            "form": form,
            "occurrence": occurrence,
            "local_start": _local(occurrence.starts_at),
            "affected": len(holding) + len(waiting),
        },
    )
