"""Wearable pages and callbacks. On the gym's host: the client's Activity page in the portal
(trends with charts, connections with connect, sync now and disconnect, outside workouts), the
gym's sync overview for owners and managers, and "sync now" for staff. On the public host:
Strava's OAuth redirect and its one webhook endpoint for every gym."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
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
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import Role
from apps.crm.selectors import can_see_health_data
from apps.portal.views import _own_client, client_required
from apps.tenants.models import Gym
from apps.tenants.selectors import gym_today, gym_url_for_request
from apps.wearables import selectors, services
from apps.wearables.models import Connection, DataKind
from apps.wearables.services.sync import SyncRefusedError, can_sync, connection_sync_request

logger = logging.getLogger(__name__)
ACTIVITY_DAYS = 30
WORKOUTS_SHOWN = 50
OVERVIEW_PAGE_SIZE = 50


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


def _chart_range(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", ACTIVITY_DAYS))
    except ValueError:
        return ACTIVITY_DAYS
    return days if days in selectors.CHART_RANGES else ACTIVITY_DAYS


def _for_display(connections: Any) -> None:
    """Whether each connection offers "sync now", and whether it synced within the minute
    ("just now" reads better than "0 minutes ago")."""
    just_now = timezone.now() - timedelta(minutes=1)
    for connection in connections:
        connection.can_sync = connection.is_active and can_sync(connection.provider)
        last = connection.last_sync_at
        connection.just_synced = bool(last and last > just_now)


def activity_context(*, client_id: int, days: int) -> dict[str, Any]:
    """What the client's Activity page and the trainer's Activity card both show."""
    today = gym_today()
    start = today - timedelta(days=days - 1)
    connections = list(selectors.connections_for_client(client_id=client_id))
    _for_display(connections)
    return {
        "days": days,
        "ranges": selectors.CHART_RANGES,
        "kind_labels": DataKind.choices,
        "trends": selectors.activity_trends(client_id=client_id, start=start, end=today),
        "connections": connections,
        "workouts": list(
            selectors.workouts_for_client(client_id=client_id, start=start, end=today)[
                :WORKOUTS_SHOWN
            ]
        ),
    }


@client_required
@require_GET
def portal_activity(request: HttpRequest) -> HttpResponse:
    client = _own_client(request.user)  # type: ignore[arg-type]
    context = activity_context(client_id=client.pk, days=_chart_range(request))
    connected = {c.provider: c for c in context["connections"] if c.is_active}
    offers = selectors.available_providers()
    context["offers"] = [
        {"offer": offer, "connection": connected.get(offer.provider)} for offer in offers
    ]
    # Connections to a provider this installation no longer offers still show (to disconnect).
    offered = {offer.provider for offer in offers}
    context["other_connections"] = [
        c for c in context["connections"] if c.is_active and c.provider not in offered
    ]
    context["result"] = request.GET.get("result", "")
    return render(request, "wearables/portal_activity.html", context)


@client_required
@require_POST
def portal_connection_sync(request: HttpRequest, provider: str) -> HttpResponse:
    client = _own_client(request.user)  # type: ignore[arg-type]
    connection = Connection.objects.filter(client=client, provider=provider).first()
    if connection is None:
        raise Http404
    _sync_request(request, connection)
    return HttpResponseRedirect(reverse("portal:activity"))


def _sync_request(request: HttpRequest, connection: Connection) -> None:
    try:
        connection_sync_request(connection=connection)
    except SyncRefusedError as refused:
        messages.warning(request, str(refused))
    else:
        messages.success(
            request,
            _("%(provider)s is syncing. New data appears in a minute or two.")
            % {"provider": connection.get_provider_display()},
        )


@client_required
@require_GET
def strava_connect_start(request: HttpRequest) -> HttpResponse:
    return oauth_connect_redirect(
        request,
        enabled=bool(settings.STRAVA_CLIENT_ID),
        authorize_url=services.strava_authorize_url,
        redirect_uri=_strava_redirect_uri(request),
        default_kinds=[DataKind.WORKOUTS],
    )


def oauth_connect_redirect(
    request: HttpRequest,
    *,
    enabled: bool,
    authorize_url: Callable[..., str],
    redirect_uri: str,
    default_kinds: list[str] | None = None,
) -> HttpResponse:
    """The start of every provider's OAuth: the client, with the kinds of data they chose
    (`?kind=`), is sent to the provider's consent page. Reached by a link, not a form: CSP's
    form-action would stop a form post redirecting to another site."""
    if not enabled:
        raise Http404
    client = _own_client(request.user)  # type: ignore[arg-type]
    url = authorize_url(
        gym=request.tenant,  # type: ignore[attr-defined]
        client_id=client.pk,
        user_id=request.user.pk,
        kinds=request.GET.getlist("kind") or list(default_kinds or []),
        redirect_uri=redirect_uri,
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


# --- Staff: the gym's sync overview, "sync now" -------------------------------------------------


@role_required(Role.OWNER, Role.MANAGER)
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Every connection of the gym: its client, provider, status, last sync, error and next
    attempt, failing ones first; a fixed number of queries per page."""
    failing = request.GET.get("status") == "failing"
    page = Paginator(selectors.connection_overview(failing=failing), OVERVIEW_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    _for_display(page.object_list)
    return render(
        request,
        "wearables/overview.html",
        {
            "page": page,
            "failing": failing,
            "counts": selectors.connection_counts(),
            "query": "status=failing&" if failing else "",
        },
    )


@role_required(Role.OWNER, Role.MANAGER, Role.TRAINER)
@require_POST
def connection_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff's "sync now" for a client's connection: managers, and the client's own trainers."""
    connection = Connection.objects.select_related("client").filter(pk=pk).first()
    if connection is None or not can_see_health_data(
        viewer=request.user,  # type: ignore[arg-type]
        client=connection.client,
    ):
        raise Http404
    _sync_request(request, connection)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("crm:client_detail", args=[connection.client_id])
    return HttpResponseRedirect(target)


@role_required(Role.OWNER, Role.MANAGER, Role.TRAINER)
@require_POST
def connect_invite(request: HttpRequest, client_id: int) -> HttpResponse:
    """Staff ask the client to connect a watch or app (those who see the client's Activity card:
    managers, and the client's own trainers); back to the client's profile with the outcome."""
    from apps.crm.models import Client

    client = Client.objects.filter(pk=client_id).first()
    if client is None or not can_see_health_data(
        viewer=request.user,  # type: ignore[arg-type]
        client=client,
    ):
        raise Http404
    try:
        sent = services.connect_invite_send(client_id=client.pk, actor=request.user)
    except services.InviteRefusedError as refused:
        messages.warning(request, str(refused))
    else:
        if sent:
            messages.success(
                request,
                _("%(name)s was asked to connect a watch or app.") % {"name": client},
            )
        else:
            messages.info(request, _("%(name)s was already asked today.") % {"name": client})
    return HttpResponseRedirect(
        reverse("crm:client_detail", args=[client.pk]) + "#wearable-activity"
    )


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
    return oauth_callback_finish(
        request,
        gym=gym,
        connect=lambda: services.strava_connect(
            gym=gym,
            client_id=int(state["client"]),
            user_id=int(state["user"]),
            kinds=list(state.get("kinds") or []),
            code=request.GET.get("code", ""),
            granted=request.GET.get("scope", ""),
            redirect_uri=_strava_redirect_uri(request),
        ),
    )


def oauth_callback_finish(
    request: HttpRequest, *, gym: Gym, connect: Callable[[], object]
) -> HttpResponse:
    """The end of every provider's OAuth redirect, once its state named the gym: `connect()`
    unless the client declined, then back to their Activity page in their gym with the
    outcome (connected, cancelled, failed or refused) for the page to say."""
    outcome = "connected"
    if request.GET.get("error"):
        outcome = "cancelled" if request.GET["error"] == "access_denied" else "failed"
    else:
        try:
            connect()
        except services.ConnectRefusedError:
            logger.info("refused at %s for %s", request.path, gym.schema_name, exc_info=True)
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
