"""Garmin pages and callbacks. On the gym's host: the portal's connect link (a redirect to
Garmin's consent page). On the public host: the OAuth redirect and the one webhook Garmin
delivers every gym's data to."""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
)
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.portal.views import client_required
from apps.wearables.models import Provider
from apps.wearables.providers.garmin import services
from apps.wearables.providers.pkce import pkce_finish
from apps.wearables.services import OAuthStateInvalidError
from apps.wearables.views import _public_url, oauth_callback_finish, oauth_connect_redirect


def _redirect_uri(request: HttpRequest) -> str:
    return _public_url(
        request, reverse("wearables_public:garmin_callback", urlconf="fitnesscrm.urls_public")
    )


@client_required
@require_GET
def connect_start(request: HttpRequest) -> HttpResponse:
    return oauth_connect_redirect(
        request,
        enabled=bool(settings.GARMIN_CLIENT_ID),
        authorize_url=services.garmin_authorize_url,
        redirect_uri=_redirect_uri(request),
    )


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """Garmin sends the client back here (one redirect URL for the platform); the signed state
    names the gym and holds the PKCE nonce, and the client goes on to their Activity page."""
    try:
        gym, state, verifier = pkce_finish(
            state=request.GET.get("state", ""), provider=Provider.GARMIN
        )
    except OAuthStateInvalidError:
        return HttpResponseBadRequest(_("This link has expired. Start again from your gym."))
    return oauth_callback_finish(
        request,
        gym=gym,
        connect=lambda: services.garmin_connect(
            gym=gym,
            client_id=int(state["client"]),
            user_id=int(state["user"]),
            kinds=list(state.get("kinds") or []),
            code=request.GET.get("code", ""),
            code_verifier=verifier,
            redirect_uri=_redirect_uri(request),
        ),
    )


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Every push, ping, deregistration and permission change. Garmin signs nothing: the
    garmin-client-id header must be ours. Answered at once (Garmin wants 200 within 30 s and
    retries for days); Celery processes each user's items in their gyms."""
    expected = settings.GARMIN_CLIENT_ID
    given = request.headers.get("garmin-client-id", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return HttpResponseForbidden("garmin-client-id: not ours")
    try:
        payload = json.loads(request.body)
        services.garmin_delivery_receive(payload=payload)
    except ValueError as error:  # JSONDecodeError included
        return HttpResponseBadRequest(str(error))
    return HttpResponse(status=200)
