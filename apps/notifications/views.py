"""The notification centre (staff and portal), preferences, the delivery log, mark-read and
web push subscription endpoints."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.accounts.models import Role
from apps.accounts.roles import has_role
from apps.core.forms import add_service_errors
from apps.crm.selectors import client_for_user
from apps.notifications import push, selectors, services
from apps.notifications.forms import DeliveryFilterForm, PreferenceForm
from apps.notifications.kinds import KINDS
from apps.tenants.selectors import gym_zone

CENTRE_PAGE_SIZE = 30
LOG_PAGE_SIZE = 50


def _is_client(request: HttpRequest) -> bool:
    return has_role(request.user, Role.CLIENT)


@never_cache
@login_required
def centre(request: HttpRequest) -> HttpResponse:
    """The viewer's notifications, newest first (the portal's look for clients)."""
    if _is_client(request) and not request.resolver_match.namespace.startswith("portal"):
        return redirect("portal:notifications")
    page = Paginator(selectors.notification_list(viewer=request.user), CENTRE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = (
        "notifications/portal_centre.html" if _is_client(request) else "notifications/centre.html"
    )
    return render(
        request,
        template,
        {"page": page, "unread": selectors.unread_count(viewer=request.user)},
    )


def _safe_next(request: HttpRequest, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("portal:notifications" if _is_client(request) else "notifications:centre")


@require_POST
@login_required
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read; "open" follows its link afterwards."""
    notification = selectors.notification_list(viewer=request.user).filter(pk=pk).first()
    if notification is None:
        # Someone else's, or none: the same answer, so ids cannot be probed.
        return HttpResponse(status=404)
    services.notification_mark_read(viewer=request.user, notification_id=pk)
    target = notification.url if request.POST.get("open") else request.POST.get("next", "")
    return redirect(_safe_next(request, target))


@require_POST
@login_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    changed = services.notification_mark_read(viewer=request.user)
    if changed:
        messages.success(request, _("All notifications are marked as read."))
    return redirect(_safe_next(request, request.POST.get("next", "")))


@never_cache
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """Which notifications arrive on which channel, and quiet hours."""
    portal = request.resolver_match.namespace.startswith("portal")
    if _is_client(request) and not portal:
        return redirect("portal:notification_preferences")
    client = client_for_user(request.user) if _is_client(request) else None
    preference = selectors.preference_for(request.user)
    form = PreferenceForm(
        request.POST or None, user=request.user, preference=preference, client=client
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.preference_update(
                user=request.user,
                choices=form.choices(),
                quiet_start=form.cleaned_data["quiet_start"],
                quiet_end=form.cleaned_data["quiet_end"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your notification choices are saved."))
            return redirect(request.path)
    template = (
        "notifications/portal_preferences.html" if portal else "notifications/preferences.html"
    )
    return render(
        request,
        template,
        {
            "form": form,
            "time_zone": request.user.time_zone or gym_zone().key,
            "push_key": settings.VAPID_PUBLIC_KEY if push.is_configured() else "",
        },
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
def delivery_log(request: HttpRequest) -> HttpResponse:
    """Every send, searchable, for the owner and managers."""
    if not selectors.may_read_delivery_log(request.user):
        raise PermissionDenied
    form = DeliveryFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {key: value for key, value in form.cleaned_data.items() if value}
    deliveries = selectors.delivery_list(viewer=request.user, zone=gym_zone(), **filters)
    page = Paginator(deliveries, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "notifications/delivery_log.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "kinds": [kind.key for kind in KINDS],
            "time_zone": gym_zone().key,
        },
        status=400 if form.errors else 200,
    )


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"body": [_("Send JSON.")]}) from None
    if not isinstance(body, dict):
        raise ValidationError({"body": [_("Send a JSON object.")]})
    return body


def _errors(error: ValidationError) -> JsonResponse:
    detail = error.message_dict if hasattr(error, "error_dict") else {"body": error.messages}
    return JsonResponse({"title": _("Check the subscription."), "errors": detail}, status=400)


@require_POST
@login_required
def push_subscribe(request: HttpRequest) -> HttpResponse:
    """The browser's PushSubscription.toJSON(): {"endpoint", "keys": {"p256dh", "auth"}}."""
    try:
        body = _json_body(request)
        keys = body.get("keys") if isinstance(body.get("keys"), dict) else {}
        services.push_subscribe(
            user=request.user,
            endpoint=str(body.get("endpoint") or ""),
            p256dh=str(keys.get("p256dh") or ""),
            auth=str(keys.get("auth") or ""),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except ValidationError as error:
        return _errors(error)
    return JsonResponse({"subscribed": True}, status=201)


@require_POST
@login_required
def push_unsubscribe(request: HttpRequest) -> HttpResponse:
    try:
        body = _json_body(request)
    except ValidationError as error:
        return _errors(error)
    removed = services.push_unsubscribe(user=request.user, endpoint=str(body.get("endpoint") or ""))
    return JsonResponse({"unsubscribed": removed})
