"""The client's schedule in the portal: their classes (booked or on the waitlist) and 1:1
sessions, and the classes of the next two weeks to book. Book and cancel go through
apps.scheduling.classes.services; HTMX swaps the whole schedule back with the outcome on top.

Only the signed-in client's own bookings are reachable: a booking id of anyone else's is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import User
from apps.core.htmx import is_partial
from apps.crm.models import Client
from apps.crm.selectors import client_for_user
from apps.portal.views import client_required
from apps.scheduling.classes.services import class_book, class_cancel
from apps.scheduling.models import ClassBookingStatus
from apps.scheduling.portal import selectors
from apps.tenants.selectors import gym_zone

CONFIRM_LATE = "late"


def _own_client(user: User) -> Client:
    """Made when the client was invited or signed in (apps/crm/signals.py); only read here."""
    client = client_for_user(user)
    if client is None:
        raise Http404
    return client


def _schedule_context(request: HttpRequest, client: Client, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    bookings = selectors.client_upcoming_class_bookings(client=client)
    mine = {booking.occurrence_id: booking for booking in bookings}
    return {
        "client": client,
        "bookings": [
            {
                "booking": booking,
                "late": selectors.is_late_cancel(booking, now),
                "free_cancel_until": selectors.free_cancel_until(booking),
            }
            for booking in bookings
        ],
        "appointments": list(selectors.client_upcoming_appointments(viewer=request.user)),  # type: ignore[arg-type]
        "classes": [
            {
                "occurrence": occurrence,
                "state": selectors.booking_window_state(occurrence, now),
                "opens_at": selectors.booking_opens_at(occurrence),
                "mine": mine.get(occurrence.pk),
            }
            for occurrence in selectors.client_bookable_occurrences()
        ],
        "days_ahead": selectors.PORTAL_DAYS_AHEAD,
        **extra,
    }


def _render(request: HttpRequest, client: Client, status: int = 200, **extra: Any) -> HttpResponse:
    template = (
        "scheduling/portal/_schedule.html"
        if is_partial(request)
        else "scheduling/portal/schedule.html"
    )
    # Templates print datetimes in the active zone: the gym's.
    with timezone.override(gym_zone()):
        response = render(
            request, template, _schedule_context(request, client, **extra), status=status
        )
    patch_vary_headers(response, ["HX-Request"])
    return response


def _outcome(
    request: HttpRequest,
    client: Client,
    *,
    notice: str = "",
    error: str = "",
    offer: dict[str, Any] | None = None,
) -> HttpResponse:
    """HTMX: the schedule with the outcome on top. A plain post: back to the page after a
    success (so a reload does not post again), the page with the error otherwise. `offer`:
    what the client can buy to book after all (`_buy_offer`)."""
    if is_partial(request):
        return _render(request, client, notice=notice, error=error, offer=offer)
    if error:
        return _render(request, client, status=400, error=error, offer=offer)
    messages.success(request, notice)
    return HttpResponseRedirect(reverse("portal:schedule"))


def _buy_offer(exc: ValidationError | PermissionDenied) -> dict[str, Any] | None:
    """A refusal for having nothing valid to book with offers the way out: the Memberships
    page, with the drop-in price when the gym sells drop-ins."""
    refusals = getattr(exc, "error_dict", {}).get("membership", [])
    if not any(refusal.code == "no_membership" for refusal in refusals):
        return None
    from apps.billing.money import format_money
    from apps.billing.selectors import drop_in_pack

    drop_in = drop_in_pack()
    return {"drop_in_price": format_money(drop_in.price, drop_in.currency) if drop_in else ""}


def _error_text(exc: ValidationError | PermissionDenied) -> str:
    blocked_until = getattr(exc, "blocked_until", None)
    if blocked_until is not None:
        # The policy's refusal (ClientBlocked) speaks of "this client": speak to them.
        local = timezone.localtime(blocked_until, gym_zone())
        return _("You cannot book until %(until)s: too many late cancellations or no-shows.") % {
            "until": f"{local:%a %d %b, %H:%M}"
        }
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You cannot do that.")


@client_required
@require_GET
def schedule(request: HttpRequest) -> HttpResponse:
    return _render(request, _own_client(request.user))  # type: ignore[arg-type]


@client_required
@require_POST
def book(request: HttpRequest, pk: int) -> HttpResponse:
    client = _own_client(request.user)  # type: ignore[arg-type]
    occurrence = selectors.bookable_occurrence_get(pk=pk)
    if occurrence is None:
        raise Http404
    try:
        booking = class_book(
            actor=request.user,  # type: ignore[arg-type]
            occurrence=occurrence,
            client=client,
        )
    except (ValidationError, PermissionDenied) as exc:
        return _outcome(request, client, error=_error_text(exc), offer=_buy_offer(exc))
    local = timezone.localtime(occurrence.starts_at, gym_zone())
    names = {"name": occurrence.class_type.name, "when": f"{local:%a %d %b, %H:%M}"}
    if booking.status == ClassBookingStatus.WAITLISTED:
        notice = _("%(name)s on %(when)s is full: you are number %(position)s on the waitlist.") % {
            **names,
            "position": booking.waitlist_position,
        }
    else:
        notice = _("You are booked for %(name)s on %(when)s.") % names
    return _outcome(request, client, notice=notice)


@client_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a booking or leave a waitlist. Inside the late-cancel window the client first
    sees a warning and confirms."""
    client = _own_client(request.user)  # type: ignore[arg-type]
    booking = selectors.client_booking_get(client=client, pk=pk)
    if booking is None:
        raise Http404
    late = selectors.is_late_cancel(booking, timezone.now())
    if late and request.POST.get("confirm") != CONFIRM_LATE:
        return _render(request, client, confirm_late=booking.pk)
    was_waitlisted = booking.status == ClassBookingStatus.WAITLISTED
    try:
        booking = class_cancel(
            actor=request.user,  # type: ignore[arg-type]
            booking=booking,
        )
    except (ValidationError, PermissionDenied) as exc:
        return _outcome(request, client, error=_error_text(exc))
    name = booking.occurrence.class_type.name
    if booking.status == ClassBookingStatus.LATE_CANCELLED:
        notice = _("Your place in %(name)s is cancelled. It counts as a late cancellation.")
    elif was_waitlisted:
        notice = _("You left the waitlist of %(name)s.")
    else:
        notice = _("Your place in %(name)s is cancelled.")
    return _outcome(request, client, notice=notice % {"name": name})
