"""Data-rights pages: a person's own export, and export or erasure by an owner or manager."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.decorators import mfa_required, role_required
from apps.accounts.models import Role, User
from apps.privacy.forms import ErasureForm
from apps.privacy.registry import personal_data
from apps.privacy.selectors import data_subject_get
from apps.privacy.services import personal_data_erase, personal_data_export


def _zip_download(*, user: User) -> HttpResponse:
    filename = f"personal-data-{user.pk}-{timezone.now():%Y%m%d}.zip"
    response = HttpResponse(personal_data_export(user=user), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    kinds = [entry.model._meta.verbose_name_plural for entry in personal_data.entries()]
    return render(request, "privacy/my_data.html", {"kinds": kinds})


@never_cache
@require_POST
@mfa_required
def my_data_export(request: HttpRequest) -> HttpResponse:
    return _zip_download(user=request.user)  # type: ignore[arg-type]


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(Role.OWNER, Role.MANAGER)
@mfa_required
def user_export(request: HttpRequest, pk: int) -> HttpResponse:
    subject = data_subject_get(viewer=request.user, pk=pk, action="export")  # type: ignore[arg-type]
    return _zip_download(user=subject)


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(Role.OWNER, Role.MANAGER)
@mfa_required
def user_erase(request: HttpRequest, pk: int) -> HttpResponse:
    subject = data_subject_get(viewer=request.user, pk=pk, action="erase")  # type: ignore[arg-type]
    form = ErasureForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        personal_data_erase(
            user=subject,
            actor=request.user,  # type: ignore[arg-type]
            reason=form.cleaned_data["reason"],
        )
        messages.success(
            request, _("The personal data of account #%(pk)s was erased.") % {"pk": subject.pk}
        )
        return HttpResponseRedirect(reverse("dashboard:home"))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "privacy/erase_confirm.html", {"subject": subject, "form": form}, status=status
    )
