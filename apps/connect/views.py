"""Stripe pages and callbacks. On the gym's host: the owner's Stripe settings (connect,
status, disconnect). On the public host: the Connect OAuth redirect and the one webhook
endpoint for every gym."""

from __future__ import annotations

import logging

import stripe
from django.conf import settings
from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.decorators import mfa_required, role_required
from apps.accounts.models import Role
from apps.billing import stripe_gateway
from apps.connect.selectors import connected_account_latest, stripe_events_recent
from apps.connect.services import (
    OAuthStateInvalidError,
    connect_authorize_url,
    connect_oauth_state_read,
    connected_account_connect,
    connected_account_disconnect,
    stripe_event_receive,
)
from apps.tenants.selectors import gym_url_for_request

logger = logging.getLogger(__name__)


def _public_url(request: HttpRequest, path: str) -> str:
    port = request.get_port()
    default_port = "443" if request.is_secure() else "80"
    netloc = settings.BASE_DOMAIN if port == default_port else f"{settings.BASE_DOMAIN}:{port}"
    return f"{request.scheme}://{netloc}{path}"


# --- The gym's host: the owner's page -----------------------------------------------------------


@never_cache
@require_GET
@role_required(Role.OWNER)
@mfa_required
def stripe_settings(request: HttpRequest) -> HttpResponse:
    gym = request.tenant  # type: ignore[attr-defined]
    account = connected_account_latest(gym=gym)
    return render(
        request,
        "connect/settings.html",
        {
            "gym": gym,
            "account": account,
            "direct_mode": stripe_gateway.is_direct_mode(),
            "can_connect": bool(settings.STRIPE_CONNECT_CLIENT_ID),
            "events": stripe_events_recent(gym=gym, limit=10) if account else [],
        },
    )


@never_cache
@require_GET
@role_required(Role.OWNER)
@mfa_required
def oauth_start(request: HttpRequest) -> HttpResponse:
    # A link, not a form: CSP's form-action would stop a form post redirecting to Stripe.
    if stripe_gateway.is_direct_mode() or not settings.STRIPE_CONNECT_CLIENT_ID:
        return HttpResponseRedirect(reverse("connect:settings"))
    url = connect_authorize_url(
        gym=request.tenant,  # type: ignore[attr-defined]
        user_id=request.user.pk,
        redirect_uri=_public_url(
            request, reverse("connect_public:oauth_callback", urlconf="fitnesscrm.urls_public")
        ),
    )
    return HttpResponseRedirect(url)


@never_cache
@require_POST
@role_required(Role.OWNER)
@mfa_required
def disconnect(request: HttpRequest) -> HttpResponse:
    try:
        account = connected_account_disconnect(
            gym=request.tenant,  # type: ignore[attr-defined]
            user_id=request.user.pk,
        )
    except stripe.StripeError:
        logger.exception("Stripe refused to deauthorise")
        messages.error(request, _("Stripe could not be reached. Nothing was changed; try again."))
    else:
        if account is not None:
            messages.success(request, _("Stripe is disconnected. No more payments are taken."))
    return HttpResponseRedirect(reverse("connect:settings"))


# --- The public host: Stripe's callbacks ------------------------------------------------------


@never_cache
@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """Stripe sends the owner back here (one redirect URL for the platform); the signed
    state says which gym, and the owner goes on to that gym's page."""
    try:
        gym, user_id = connect_oauth_state_read(state=request.GET.get("state", ""))
    except OAuthStateInvalidError:
        return HttpResponseBadRequest(_("This link has expired. Start again from your gym."))
    outcome = "connected"
    if request.GET.get("error"):
        # The owner cancelled at Stripe (access_denied) or Stripe refused.
        outcome = "cancelled" if request.GET["error"] == "access_denied" else "failed"
    else:
        try:
            connected_account_connect(gym=gym, code=request.GET.get("code", ""), user_id=user_id)
        except (stripe.StripeError, ValueError):
            logger.exception("Stripe Connect failed for %s", gym.schema_name)
            outcome = "failed"
    path = f"{reverse('connect:settings', urlconf='fitnesscrm.urls_tenant')}?result={outcome}"
    return HttpResponseRedirect(gym_url_for_request(gym=gym, request=request, path=path))


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events for every gym. Verified, stored once and answered at once; the work
    happens on Celery (apps.connect.tasks)."""
    try:
        stripe_event_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except stripe.SignatureVerificationError:
        return HttpResponseBadRequest("bad signature")
    except ValueError:
        return HttpResponseBadRequest("bad payload")
    return HttpResponse(status=200)
