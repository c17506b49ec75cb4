"""Fitbit through the Google Health API: the portal's connect link, Google's OAuth redirect and
the subscriber endpoint (verification and notifications) on the public host."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.portal.views import client_required
from apps.wearables.providers.google_health import services
from apps.wearables.providers.pkce import pkce_finish
from apps.wearables.services import OAuthStateInvalidError
from apps.wearables.views import _public_url, oauth_callback_finish, oauth_connect_redirect


def _redirect_uri(request: HttpRequest) -> str:
    return _public_url(
        request,
        reverse("wearables_public:google_health_callback", urlconf="fitnesscrm.urls_public"),
    )


@client_required
@require_GET
def connect_start(request: HttpRequest) -> HttpResponse:
    return oauth_connect_redirect(
        request,
        enabled=bool(settings.GOOGLE_HEALTH_CLIENT_ID),
        authorize_url=services.google_health_authorize_url,
        redirect_uri=_redirect_uri(request),
    )


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """Google sends the client back here (one redirect URI for the platform); the signed state
    names the gym and carries the nonce of the PKCE verifier, usable once."""
    try:
        gym, state, verifier = pkce_finish(
            state=request.GET.get("state", ""), provider=services.PROVIDER
        )
    except OAuthStateInvalidError:
        return HttpResponseBadRequest(_("This link has expired. Start again from your gym."))
    if not request.GET.get("error") and not request.GET.get("code"):
        return HttpResponseBadRequest("code: required")
    return oauth_callback_finish(
        request,
        gym=gym,
        connect=lambda: services.google_health_connect(
            gym=gym,
            client_id=int(state["client"]),
            user_id=int(state["user"]),
            kinds=list(state.get("kinds") or []),
            code=request.GET["code"],
            code_verifier=verifier,
            redirect_uri=_redirect_uri(request),
        ),
    )


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Google's subscriber endpoint. Every request must carry our secret in Authorization (401
    without one, 403 with another): that is also how Google verifies the subscriber, expecting
    201 to its {"type": "verification"} with the secret. Notifications are routed and queued,
    answered at once."""
    authorization = request.headers.get("Authorization", "")
    if not authorization:
        return JsonResponse({"error": "Authorization: required"}, status=401)
    if not services.webhook_authorized(authorization=authorization):
        return JsonResponse({"error": "Authorization: not our secret"}, status=403)
    try:
        body = json.loads(request.body)
    except ValueError:
        return JsonResponse({"error": "body: not JSON"}, status=400)
    if isinstance(body, dict) and body.get("type") == "verification":
        return HttpResponse(status=201)
    try:
        services.notifications_receive(body=body)
    except services.NotificationInvalidError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return HttpResponse(status=204)
