"""The staff dashboard: today's overview for the signed-in role."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from apps.accounts.models import Role
from apps.accounts.roles import has_role, is_management
from apps.crm import selectors as crm_selectors
from apps.crm.models import LeadStatus
from apps.crm.views import certification_dates
from apps.tenants.selectors import gym_today
from apps.workouts.selectors import needs_attention_list

PORTAL_URL = "/portal/"
MY_CLIENTS_SHOWN = 25
NEW_LEADS_SHOWN = 10


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The gym's dashboard: today's overview for the signed-in role. Clients have the portal."""
    user = request.user
    if has_role(user, Role.CLIENT):
        return HttpResponseRedirect(PORTAL_URL)
    context: dict[str, Any] = {**certification_dates()}
    if is_management(user):
        today = gym_today()
        week_start = today - timedelta(days=today.weekday())
        context["counts"] = crm_selectors.client_counts(viewer=user)
        context["new_leads_this_week"] = (
            crm_selectors.lead_list(viewer=user).filter(created_at__date__gte=week_start).count()
        )
        context["expiring"] = list(crm_selectors.certifications_expiring())
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
    elif has_role(user, Role.FRONT_DESK):
        context["new_leads"] = list(
            crm_selectors.lead_list(viewer=user).filter(status=LeadStatus.NEW)[:NEW_LEADS_SHOWN]
        )
    return render(request, "dashboard/home.html", context)
