"""What every gym's model admin builds on (the gym's /admin/: owners and managers only, with
two-factor authentication). The admin is a thin layer like the views: reads through the
selectors, every write through a service; a service error the form could not foresee rolls the
save back and comes back as a message on the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from apps.accounts.roles import is_management


def service_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run an admin view (which Django wraps in a transaction); a ValidationError raised by a
    service rolls it back and is shown as a message instead of a server error."""

    def wrapped(self: admin.ModelAdmin, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return view(self, request, *args, **kwargs)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    return wrapped


class GymAdmin(admin.ModelAdmin):
    """Owners and managers only (their `is_staff` follows the same rule); trainers and front
    desk work in the dashboard. Nothing is deleted unless a model admin says how."""

    def _allowed(self, request: HttpRequest) -> bool:
        return is_management(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @service_errors
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return super().changeform_view(request, *args, **kwargs)

    @service_errors
    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return super().delete_view(request, *args, **kwargs)

    def _run_action(self, request: HttpRequest, action: Callable[[], str]) -> None:
        """An action's writes all or nothing; its result or its error as a message."""
        try:
            with transaction.atomic():
                message = action()
        except (ValidationError, PermissionDenied) as exc:
            detail = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, detail or _("Not allowed."), messages.ERROR)
        else:
            self.message_user(request, message, messages.SUCCESS)


def action_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    action: str,
    title: str,
    form: forms.Form,
) -> TemplateResponse:
    """The intermediate page of a bulk action: the selection, a small form, and a button that
    posts the action again with `apply`."""
    opts = model_admin.model._meta
    return TemplateResponse(
        request,
        "admin/action_form.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "opts": opts,
            "queryset": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across") == "1",
        },
    )
