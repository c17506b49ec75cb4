from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from apps.accounts.handoff import handoff_token_create
from apps.accounts.models import User
from apps.core.api.throttling import AUTH_SCOPE, rate_limit
from apps.tenants.forms import GymSignupForm
from apps.tenants.models import Gym
from apps.tenants.selectors import gym_url_for_request
from apps.tenants.services import gym_create


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/landing.html")


def handoff_url(*, request: HttpRequest, gym: Gym, owner_email: str) -> str:
    """Where the new owner lands: their gym's host, logged in by a single-use token."""
    from django_tenants.utils import schema_context

    with schema_context(gym.schema_name):
        owner = User.objects.get(email=owner_email.lower())
        token = handoff_token_create(schema_name=gym.schema_name, user=owner)
    return gym_url_for_request(gym=gym, request=request, path=f"/accounts/handoff/?token={token}")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and (limited := rate_limit(request, scope=AUTH_SCOPE)):
        return limited
    form = GymSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        gym = gym_create(
            name=data["name"],
            subdomain=data["subdomain"],
            owner_email=data["owner_email"],
            owner_password=data["owner_password"],
        )
        return HttpResponseRedirect(
            handoff_url(request=request, gym=gym, owner_email=data["owner_email"])
        )
    return render(request, "tenants/signup.html", {"form": form})
