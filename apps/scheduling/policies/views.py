"""The booking policy page: owners and managers set the policy, review recent strikes and
blocked clients, and waive a strike. Thin: reads through the policy selectors, writes through
the policy services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import Role
from apps.core.forms import add_service_errors
from apps.scheduling.models import Strike
from apps.scheduling.policies import selectors as policy_selectors
from apps.scheduling.policies import services as policy_services
from apps.scheduling.policies.forms import PolicyForm, WaiveForm

MANAGEMENT = (Role.OWNER, Role.MANAGER)
RECENT_STRIKES = 50


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def policies(request: HttpRequest) -> HttpResponse:
    """Owners and managers set the booking policy and review (and waive) recent strikes."""
    policy = policy_selectors.policy_get()
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            policy_services.policy_update(
                actor=request.user,
                **{name: form.cleaned_data[name] for name in PolicyForm.Meta.fields},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The booking policy was saved."))
            return HttpResponseRedirect(reverse("scheduling:policies"))
    strikes = policy_selectors.strike_list(viewer=request.user)[:RECENT_STRIKES]
    blocked = policy_selectors.blocked_clients(viewer=request.user, policy=policy)
    return render(
        request,
        "scheduling/policies.html",
        {"form": form, "strikes": strikes, "blocked": blocked, "waive_form": WaiveForm()},
    )


@role_required(*MANAGEMENT)
@require_POST
def strike_waive(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        strike = policy_selectors.strike_list(viewer=request.user).get(pk=pk)
    except Strike.DoesNotExist as exc:
        raise Http404 from exc
    form = WaiveForm(request.POST)
    if form.is_valid():
        policy_services.strike_waive(
            actor=request.user, strike=strike, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("The strike was waived."))
    else:
        messages.error(request, _("Say why the strike is waived."))
    return HttpResponseRedirect(reverse("scheduling:policies"))
