from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.forms import AcceptInvitationForm, InvitationForm, RoleForm
from apps.accounts.handoff import handoff_token_redeem
from apps.accounts.models import Role, User
from apps.accounts.selectors import invitation_list, user_list
from apps.accounts.services import (
    invitation_accept,
    invitation_create,
    invitation_get_open,
    invitation_revoke,
    user_change_role,
)
from apps.core.api.throttling import AUTH_SCOPE, rate_limit

MANAGEMENT = (Role.OWNER, Role.MANAGER)


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
    login(request, user, backend="apps.accounts.backends.ModelBackend")
    return HttpResponseRedirect(reverse("dashboard:home"))


def _form_errors(form, exc: ValidationError) -> None:  # type: ignore[no-untyped-def]
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def invitations(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None, actor=request.user)
    if request.method == "POST" and (limited := rate_limit(request, scope=AUTH_SCOPE)):
        return limited
    if request.method == "POST" and form.is_valid():
        try:
            invitation_create(
                actor=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return HttpResponseRedirect(reverse("accounts:invitations"))
    page = Paginator(invitation_list(viewer=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/invitations.html", {"form": form, "page": page})


@role_required(*MANAGEMENT)
@require_POST
def invitation_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(invitation_list(viewer=request.user), pk=pk)
    invitation_revoke(actor=request.user, invitation=invitation)
    messages.success(request, _("Invitation revoked."))
    return HttpResponseRedirect(reverse("accounts:invitations"))


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_get_open(token=token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(
                token=token,
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except ValidationError as exc:
            errors = exc.message_dict
            if "password" in errors:
                errors["password1"] = errors.pop("password")
            _form_errors(form, ValidationError(errors))
        else:
            login(request, user, backend="apps.accounts.backends.ModelBackend")
            return HttpResponseRedirect(reverse("dashboard:home"))
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}
    )


@role_required(*MANAGEMENT)
def team(request: HttpRequest) -> HttpResponse:
    people = user_list(viewer=request.user).exclude(role=Role.CLIENT)
    page = Paginator(people, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/team.html",
        {"page": page, "roles": Role.choices, "can_change_roles": request.user.role == Role.OWNER},
    )


@role_required(Role.OWNER)
@require_POST
def change_role(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        raise Http404
    user_change_role(actor=request.user, user=user, role=form.cleaned_data["role"])
    messages.success(request, _("Role of %(user)s changed.") % {"user": user})
    return HttpResponseRedirect(reverse("accounts:team"))
