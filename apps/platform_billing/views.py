"""The owner's FitnessCRM subscription page on the gym's host, and the platform's own Stripe
webhook on the public host."""

from __future__ import annotations

import stripe
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.decorators import mfa_required, role_required
from apps.accounts.models import Role
from apps.platform_billing import services
from apps.platform_billing.models import PlatformPlan
from apps.platform_billing.selectors import (
    active_clients_count,
    gym_standing,
    plan_fits,
    plan_for_active_clients,
    plans_on_sale,
    platform_billing_enabled,
    subscription_for_owner,
)


def _page_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("platform_billing:subscription"))


def _enabled_or_404() -> None:
    if not platform_billing_enabled():
        from django.http import Http404

        raise Http404


@never_cache
@require_GET
@role_required(Role.OWNER)
@mfa_required
def subscription(request: HttpRequest) -> HttpResponse:
    _enabled_or_404()
    gym = request.tenant  # type: ignore[attr-defined]
    count = active_clients_count()
    response = render(
        request,
        "platform_billing/subscription.html",
        {
            "subscription": subscription_for_owner(viewer=request.user, gym=gym),
            "standing": gym_standing(gym=gym),
            "plans": [(plan, plan_fits(plan, count)) for plan in plans_on_sale()],
            "recommended": plan_for_active_clients(count=count),
            "active_clients": count,
            "result": request.GET.get("result", ""),
        },
    )
    # Subscribe and "update card" post to views that redirect to Stripe's Checkout and
    # Customer Portal: CSP's form-action applies to those redirects too.
    response._csp_update = {  # type: ignore[attr-defined]
        "form-action": [settings.STRIPE_CHECKOUT_ORIGIN, settings.STRIPE_BILLING_PORTAL_ORIGIN]
    }
    return response


def _stripe_unavailable(request: HttpRequest) -> HttpResponse:
    messages.error(request, _("Stripe could not be reached. Please try again in a minute."))
    return HttpResponseRedirect(reverse("platform_billing:subscription"))


@require_POST
@role_required(Role.OWNER)
@mfa_required
def subscribe(request: HttpRequest) -> HttpResponse:
    _enabled_or_404()
    plan = get_object_or_404(PlatformPlan, pk=request.POST.get("plan"), is_active=True)
    try:
        url = services.subscribe_session_create(
            gym=request.tenant,  # type: ignore[attr-defined]
            plan=plan,
            email=request.user.email,  # type: ignore[union-attr]
            success_url=f"{_page_url(request)}?result=paid",
            cancel_url=f"{_page_url(request)}?result=cancelled",
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return HttpResponseRedirect(reverse("platform_billing:subscription"))
    except stripe.StripeError:
        return _stripe_unavailable(request)
    return HttpResponseRedirect(url)


@require_POST
@role_required(Role.OWNER)
@mfa_required
def update_card(request: HttpRequest) -> HttpResponse:
    _enabled_or_404()
    try:
        url = services.card_update_session_create(
            gym=request.tenant,  # type: ignore[attr-defined]
            email=request.user.email,  # type: ignore[union-attr]
            return_url=_page_url(request),
        )
    except stripe.StripeError:
        return _stripe_unavailable(request)
    return HttpResponseRedirect(url)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """The platform account's own events (Stripe's "Your account" endpoint, separate from the
    Connect endpoint that carries gyms' events, each with its own signing secret)."""
    try:
        services.platform_event_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except stripe.SignatureVerificationError:
        return HttpResponseBadRequest("bad signature")
    except ValueError:
        return HttpResponseBadRequest("bad payload")
    return HttpResponse(status=200)
