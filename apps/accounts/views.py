from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from apps.accounts.handoff import handoff_token_redeem


@never_cache
def handoff(request: HttpRequest) -> HttpResponse:
    """Log in the owner who just created this gym on the public host."""
    user = handoff_token_redeem(
        schema_name=request.tenant.schema_name, token=request.GET.get("token", "")
    )
    if user is None:
        return render(
            request,
            "accounts/handoff_invalid.html",
            {"message": _("This sign-in link is invalid or has expired. Please log in.")},
            status=400,
        )
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponseRedirect(reverse("dashboard:home"))
