from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from apps.ics_feeds import selectors, services
from apps.ics_feeds.ics import calendar_text
from apps.tenants.selectors import current_gym


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """No login: the token in the URL is the credential (calendar apps cannot log in)."""
    calendar_feed = selectors.calendar_feed_by_token(token=token)
    if calendar_feed is None:
        raise Http404
    now = timezone.now()
    events = selectors.calendar_feed_events(user=calendar_feed.user, now=now)
    body = calendar_text(events=events, name=current_gym().name, now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def feed_settings(request: HttpRequest) -> HttpResponse:
    feed_url = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.calendar_feed_revoke(user=request.user)
            return redirect("calendars:settings")
        token = services.calendar_feed_rotate(user=request.user)
        feed_url = request.build_absolute_uri(reverse("calendars:feed", args=[token]))
    context = {
        "feed": selectors.calendar_feed_get(user=request.user),
        "feed_url": feed_url,
        "webcal_url": feed_url.replace("https://", "webcal://").replace("http://", "webcal://"),
    }
    return render(request, "calendars/settings.html", context)
