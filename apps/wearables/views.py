"""Wearable pages and callbacks. On the gym's host: the client's Activity page in the portal
(connections, outside workouts, daily steps) with connect and disconnect. On the public host:
Strava's OAuth redirect and its one webhook endpoint for every gym."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.portal.views import _own_client, client_required
from apps.tenants.selectors import gym_url_for_request
from apps.wearables import selectors, services
from apps.wearables.models import Connection, DataKind

logger = logging.getLogger(__name__)
ACTIVITY_DAYS = 30


def _public_url(request: HttpRequest, path: str) -> str:
    port = request.get_port()
    default_port = "443" if request.is_secure() else "80"
    netloc = settings.BASE_DOMAIN if port == default_port else f"{settings.BASE_DOMAIN}:{port}"
    return f"{request.scheme}://{netloc}{path}"


def _strava_redirect_uri(request: HttpRequest) -> str:
    return _public_url(
        request, reverse("wearables_public:strava_callback", urlconf="fitnesscrm.urls_public")
    )


# --- The portal -------------------------------------------------------------------------------


@client_required
@require_GET
def portal_activity(request: HttpRequest) -> HttpResponse:
    client = _own_client(request.user)  # type: ignore[arg-type]
    today = timezone.localdate()
    start = today - timedelta(days=ACTIVITY_DAYS - 1)
    return render(
        request,
        "wearables/portal_activity.html",
        {
            "connections": list(selectors.connections_for_client(client_id=client.pk)),
            "workouts": list(
                selectors.workouts_for_client(client_id=client.pk, start=start, end=today)[:100]
            ),
            "days": list(
                selectors.daily_rows(
                    client_id=client.pk, kind=DataKind.ACTIVITY, start=start, end=today
                )
            ),
            "strava_available": bool(settings.STRAVA_CLIENT_ID),
            "result": request.GET.get("result", ""),
        },
    )


@client_required
@require_GET
def strava_connect_start(request: HttpRequest) -> HttpResponse:
    # A link, not a form: CSP's form-action would stop a form post redirecting to Strava.
    if not settings.STRAVA_CLIENT_ID:
        raise Http404
    client = _own_client(request.user)  # type: ignore[arg-type]
    url = services.strava_authorize_url(
        gym=request.tenant,  # type: ignore[attr-defined]
        client_id=client.pk,
        user_id=request.user.pk,
        kinds=request.GET.getlist("kind") or [DataKind.WORKOUTS],
        redirect_uri=_strava_redirect_uri(request),
    )
    return HttpResponseRedirect(url)


@client_required
@require_POST
def connection_disconnect(request: HttpRequest, provider: str) -> HttpResponse:
    client = _own_client(request.user)  # type: ignore[arg-type]
    connection = Connection.objects.filter(client=client, provider=provider).first()
    if connection is None:
        raise Http404
    services.connection_disconnect(connection=connection, actor=request.user)
    messages.success(
        request,
        _("%(provider)s is disconnected. Nothing more is read from it.")
        % {"provider": connection.get_provider_display()},
    )
    return HttpResponseRedirect(reverse("portal:activity"))


# --- The public host: Strava's callbacks ------------------------------------------------------


@never_cache
@require_GET
def strava_callback(request: HttpRequest) -> HttpResponse:
    """Strava sends the client back here (one redirect URL for the platform); the signed state
    names the gym, and the client goes on to their Activity page there."""
    try:
        gym, state = services.oauth_state_read(state=request.GET.get("state", ""))
    except services.OAuthStateInvalidError:
        return HttpResponseBadRequest(_("This link has expired. Start again from your gym."))
    outcome = "connected"
    if request.GET.get("error"):
        outcome = "cancelled" if request.GET["error"] == "access_denied" else "failed"
    else:
        try:
            services.strava_connect(
                gym=gym,
                client_id=int(state["client"]),
                user_id=int(state["user"]),
                kinds=list(state.get("kinds") or []),
                code=request.GET.get("code", ""),
                granted=request.GET.get("scope", ""),
                redirect_uri=_strava_redirect_uri(request),
            )
        except services.ConnectRefusedError:
            logger.info("Strava connect refused for %s", gym.schema_name, exc_info=True)
            outcome = "refused"
    path = f"{reverse('portal:activity', urlconf='fitnesscrm.urls_tenant')}?result={outcome}"
    return HttpResponseRedirect(gym_url_for_request(gym=gym, request=request, path=path))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def strava_webhook(request: HttpRequest) -> HttpResponse:
    """GET: Strava validating the push subscription (echo hub.challenge if the verify token is
    ours). POST: an event, routed and queued; answered at once (Strava wants 200 within 2 s)."""
    if request.method == "GET":
        token = request.GET.get("hub.verify_token", "")
        expected = settings.STRAVA_WEBHOOK_VERIFY_TOKEN
        if request.GET.get("hub.mode") != "subscribe" or not expected or token != expected:
            return HttpResponseForbidden("bad verify token")
        return JsonResponse({"hub.challenge": request.GET.get("hub.challenge", "")})
    try:
        event = json.loads(request.body)
        if not isinstance(event, dict):
            raise ValueError("not an object")
        services.strava_event_receive(event=event)
    except ValueError as error:
        return HttpResponseBadRequest(str(error))
    return HttpResponse(status=200)
