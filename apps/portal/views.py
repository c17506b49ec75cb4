"""The client portal: a client's own profile, and the shell of an installable web app (manifest
and service worker at the root of the gym's host, so the worker may control /portal/)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role
from apps.crm.models import Client
from apps.crm.selectors import client_for_user
from apps.crm.services import client_update
from apps.portal.forms import ClientProfileForm

View = Callable[..., HttpResponse]

THEME_COLOUR = "#0b6e4f"
BACKGROUND_COLOUR = "#f6f7f9"
SHORT_NAME_LENGTH = 12
# Static files the service worker stores when it installs, so the offline page has its look.
PRECACHED_STATIC = ("css/app.css", "js/portal.js", "portal/icon-192.png")


def client_required(view: View) -> View:
    """Clients only, like apps.accounts.decorators.role_required(Role.CLIENT), but staff who
    open the portal get a page that points them to the dashboard rather than a bare 403."""

    @never_cache
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not has_role(request.user, Role.CLIENT):
            return render(request, "portal/clients_only.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _own_client(user: User) -> Client:
    """Made when the client was invited or signed in (apps/crm/signals.py); only read here."""
    client = client_for_user(user)
    if client is None:
        raise Http404
    return client


def _primary_assignment(client: Client) -> Any:
    current = getattr(client, "current_assignments", [])
    return next((a for a in current if a.is_primary), current[0] if current else None)


@client_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    client = _own_client(request.user)  # type: ignore[arg-type]
    primary = _primary_assignment(client)
    other_trainers = [
        assignment.trainer
        for assignment in getattr(client, "current_assignments", [])
        if assignment is not primary
    ]
    return render(
        request,
        "portal/home.html",
        {
            "client": client,
            "primary_trainer": primary.trainer if primary else None,
            "other_trainers": other_trainers,
        },
    )


@client_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    client = _own_client(request.user)  # type: ignore[arg-type]
    initial = ClientProfileForm.initial_for(client)
    form = ClientProfileForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = form.changed_values()
        if not changed:
            messages.info(request, _("Nothing to save: your profile is as it was."))
            return HttpResponseRedirect(reverse("portal:profile"))
        try:
            client_update(actor=request.user, client=client, **changed)  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Your profile has been saved."))
            return HttpResponseRedirect(reverse("portal:profile"))
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/profile.html", {"client": client, "form": form}, status=status)


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the service worker shows when a portal page cannot load. It holds nothing personal
    (no user, no messages), because the worker keeps a copy of it on the device."""
    response = render(request, "portal/offline.html")
    response["Cache-Control"] = "no-cache"
    return response


def _short_name(name: str) -> str:
    if len(name) <= SHORT_NAME_LENGTH:
        return name
    first_word = name.split()[0] if name.split() else name
    return first_word[:SHORT_NAME_LENGTH]


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest of this gym's portal. Public: browsers fetch it without cookies."""
    gym = request.tenant  # type: ignore[attr-defined]
    gym_name = getattr(gym, "name", "") or "FitnessCRM"
    portal_url = reverse("portal:home")
    if getattr(gym, "icon_name", ""):
        # The gym's own icon: its logo centred inside a maskable icon's safe zone.
        icon_url = f"{reverse('brand_icon')}?v={gym.brand_version}"
        icons = [
            {"src": icon_url, "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": icon_url, "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ]
    else:
        icons = [
            {"src": static("portal/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("portal/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("portal/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ]
    document = {
        "id": portal_url,
        "name": gym_name,
        "short_name": _short_name(gym_name),
        "description": _("Your profile, training and progress at %(gym)s.") % {"gym": gym_name},
        "lang": get_language(),
        "start_url": portal_url,
        "scope": "/",
        "display": "standalone",
        "theme_color": getattr(gym, "brand_colour", "") or THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": icons,
        "shortcuts": [{"name": _("My profile"), "url": reverse("portal:profile")}],
    }
    response = JsonResponse(
        document, content_type="application/manifest+json", json_dumps_params={"indent": 2}
    )
    # An hour: a renamed gym shows its new name on installed apps soon enough.
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _static_names_are_hashed() -> bool:
    # The production storage puts a content hash in every static file's name, so a cached copy
    # can never be stale; in development the names stay the same when the files change.
    return hasattr(staticfiles_storage, "manifest_name")


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The portal's service worker, served from the root so its scope may cover /portal/."""
    offline_url = reverse("portal:offline")
    precache = [offline_url, *(static(name) for name in PRECACHED_STATIC)]
    template = get_template("portal/sw.js")
    # The cache name changes whenever the worker, the offline page or a precached file's
    # (hashed) URL changes, so the new worker's activate step drops the old caches.
    fingerprint = hashlib.sha256()
    for part in (
        template.template.source,  # type: ignore[attr-defined]
        render_to_string("portal/offline.html", request=request),
        *precache,
    ):
        fingerprint.update(part.encode())
    body = template.render(
        {
            "version": fingerprint.hexdigest()[:12],
            "offline_url": json.dumps(offline_url),
            "portal_prefix": json.dumps(reverse("portal:home")),
            "static_prefix": json.dumps(settings.STATIC_URL),
            "precache": json.dumps(precache),
            "static_names_hashed": json.dumps(_static_names_are_hashed()),
        }
    )
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    # Browsers check for a new worker on every visit; never let a cache answer for it.
    response["Cache-Control"] = "no-cache"
    return response
