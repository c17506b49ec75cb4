"""The staff home page, "Today": the day's classes and sessions with their check-ins, the next
client due, new leads and follow-ups, a trainer's own day, and a new gym's set-up checklist.

Thin views: reads through apps.dashboard.selectors (which decide what each role sees), the
one-click actions through the existing services (which check rights and audit). An action
posted by HTMX gets its section of the page back; without HTMX it redirects to the page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import Role
from apps.accounts.roles import has_role, is_management
from apps.automations.selectors import tasks_for_today
from apps.core.htmx import is_partial
from apps.crm import selectors as crm_selectors
from apps.crm import services as crm_services
from apps.crm.models import Lead, LeadStatus
from apps.crm.views import certification_dates
from apps.dashboard import selectors
from apps.scheduling.appointments import services as appointment_services
from apps.scheduling.checkin.selectors import checkin_appointments, checkin_class_bookings
from apps.scheduling.classes import services as class_services
from apps.scheduling.models import Appointment, ClassBooking
from apps.tenants.selectors import gym_today
from apps.workouts.selectors import needs_attention_list

PORTAL_URL = "/portal/"
MY_CLIENTS_SHOWN = 25
CHECKIN_ROLES = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK, Role.TRAINER)
LEAD_HANDLERS = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK)
LEAD_ACTIONS = ("contacted", "lost", "convert")


def _schedule_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    day = gym_today()
    return {
        "day": day,
        "classes": selectors.today_classes(viewer=user, day=day),
        "sessions": selectors.today_sessions(viewer=user, day=day),
        "due": selectors.next_due(viewer=user),
        "now": timezone.now(),
    }


def _leads_context(request: HttpRequest) -> dict[str, Any]:
    leads, leads_total = selectors.new_leads(viewer=request.user)
    return {
        "new_leads": leads,
        "new_leads_total": leads_total,
        "follow_ups": selectors.follow_ups(viewer=request.user),
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Today for the signed-in role. Clients have the portal."""
    user = request.user
    if has_role(user, Role.CLIENT):
        return HttpResponseRedirect(PORTAL_URL)
    context: dict[str, Any] = {**certification_dates(), **_schedule_context(request)}
    if is_management(user):
        today = gym_today()
        week_start = today - timedelta(days=today.weekday())
        context["counts"] = crm_selectors.client_counts(viewer=user)
        context["new_leads_this_week"] = (
            crm_selectors.lead_list(viewer=user).filter(created_at__date__gte=week_start).count()
        )
        context["expiring"] = list(crm_selectors.certifications_expiring())
        context["checklist"] = selectors.setup_checklist(viewer=user)
    elif has_role(user, Role.TRAINER):
        # One row more than shown tells whether to offer the full list.
        clients = list(crm_selectors.client_list(viewer=user)[: MY_CLIENTS_SHOWN + 1])
        context["my_clients"] = clients[:MY_CLIENTS_SHOWN]
        context["more_clients"] = len(clients) > MY_CLIENTS_SHOWN
        trainer = crm_selectors.trainer_for_user(user)
        context["trainer"] = trainer
        context["expiring"] = (
            list(crm_selectors.certifications_expiring(trainer=trainer)) if trainer else []
        )
        context["needs_attention"] = needs_attention_list(viewer=user)
    if has_role(user, *LEAD_HANDLERS):
        context.update(_leads_context(request))
    context["staff_tasks"] = tasks_for_today(viewer=user)
    return render(request, "dashboard/home.html", context)


def _schedule_answer(request: HttpRequest, error: str, done: str) -> HttpResponse:
    if is_partial(request):
        context = {**_schedule_context(request), "error": error}
        return render(request, "dashboard/_schedule.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return HttpResponseRedirect(reverse("dashboard:home"))


@role_required(*CHECKIN_ROLES)
@require_POST
def checkin_class_booking(request: HttpRequest, pk: int) -> HttpResponse:
    """Check a client in to their class from Today, by the check-in page's rules."""
    try:
        booking = checkin_class_bookings(viewer=request.user).get(pk=pk)
    except ClassBooking.DoesNotExist as exc:
        raise Http404 from exc
    error = ""
    try:
        class_services.class_check_in(actor=request.user, booking=booking)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    done = _("%(name)s is checked in.") % {"name": booking.client.full_name}
    return _schedule_answer(request, error, done)


@role_required(*CHECKIN_ROLES)
@require_POST
def checkin_appointment(request: HttpRequest, pk: int) -> HttpResponse:
    """Check a client in to their 1:1 session from Today."""
    try:
        appointment = checkin_appointments(viewer=request.user).get(pk=pk)
    except Appointment.DoesNotExist as exc:
        raise Http404 from exc
    error = ""
    try:
        appointment_services.appointment_check_in(actor=request.user, appointment=appointment)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    except appointment_services.SchedulingConflict as exc:
        error = exc.message
    done = _("%(name)s is checked in.") % {"name": appointment.client.full_name}
    return _schedule_answer(request, error, done)


@role_required(*LEAD_HANDLERS)
@require_POST
def lead_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """Mark a lead contacted or lost, or make them a client, in one click from Today."""
    if what not in LEAD_ACTIONS:
        raise Http404
    try:
        lead = selectors.lead_for_action(viewer=request.user, pk=pk)
    except Lead.DoesNotExist as exc:
        raise Http404 from exc
    error = ""
    try:
        if what == "convert":
            if lead.status != LeadStatus.CONVERTED:
                crm_services.lead_convert(actor=request.user, lead=lead)
        elif lead.status != LeadStatus.CONVERTED:
            crm_services.lead_update_status(actor=request.user, lead=lead, status=what)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if is_partial(request):
        return render(request, "dashboard/_leads.html", {**_leads_context(request), "error": error})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("%(name)s is updated.") % {"name": lead})
    return HttpResponseRedirect(reverse("dashboard:home"))
