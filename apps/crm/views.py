"""The staff dashboard's CRM pages (clients, trainers, leads) and the public join form.

Thin views: reads go through apps.crm.selectors (which decide who sees what), writes through
apps.crm.services (which check rights and audit). A client the viewer may not see is a 404, never
a 403, so its existence is not revealed. Pages that HTMX updates in part render a partial template
when the request comes from HTMX.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.core.api.throttling import rate_limit
from apps.core.forms import add_service_errors
from apps.core.htmx import is_partial
from apps.core.sorting import sort_links, sort_value
from apps.crm import selectors, services
from apps.crm.api.filters import ClientFilter
from apps.crm.forms import (
    AssignForm,
    CertificationForm,
    ClientBulkForm,
    ClientForm,
    JoinForm,
    LeadStatusForm,
    NoteForm,
    TrainerCreateForm,
)
from apps.crm.models import Client, ClientStatus, Lead, LeadStatus, NoteKind, Trainer
from apps.crm.parq import parq_rows
from apps.tenants.selectors import gym_today

PAGE_SIZE = 25
TIMELINE_LENGTH = 20
JOIN_THROTTLE_SCOPE = "join"
STAFF = (Role.OWNER, Role.MANAGER, Role.TRAINER, Role.FRONT_DESK)
MANAGEMENT = (Role.OWNER, Role.MANAGER)
LEAD_HANDLERS = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK)
HEALTH_FIELDS = frozenset(services.CLIENT_HEALTH_FIELDS)
CLIENT_FILTERS = ("status", "trainer", "tag", "has_trainer", "joined_after", "joined_before")

TIMELINE_LABELS = {
    "client.created": gettext_lazy("Client added"),
    "client.updated": gettext_lazy("Details changed"),
    "client.consent_recorded": gettext_lazy("Consent recorded"),
    "assignment.created": gettext_lazy("Trainer assigned"),
    "assignment.ended": gettext_lazy("Trainer unassigned"),
    "note.created": gettext_lazy("Note added"),
    "note.updated": gettext_lazy("Note edited"),
}


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def certification_dates() -> dict[str, Any]:
    """What templates compare expiry dates with to flag certifications."""
    today = gym_today()
    return {
        "today": today,
        "warn_until": today + timedelta(days=selectors.CERTIFICATION_WARNING_DAYS),
    }


def _client_or_404(viewer: User, pk: int) -> Client:
    try:
        return selectors.client_get(viewer=viewer, pk=pk)
    except Client.DoesNotExist as exc:
        raise Http404 from exc


# --- Clients --------------------------------------------------------------------------------


@role_required(*STAFF)
@require_http_methods(["GET"])
def client_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("search", "").strip()
    sort = sort_value(request.GET.get("sort"), selectors.CLIENT_SORTS)
    client_filter = ClientFilter(
        request.GET,
        queryset=selectors.client_list(viewer=request.user, search=search),
        request=request,
    )
    clients = selectors.client_sort(client_filter.qs, sort)
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    can_bulk = has_role(request.user, *MANAGEMENT)
    context = {
        "sort": sort,
        "sort_links": sort_links(request.GET, sort, selectors.CLIENT_SORTS),
        "can_bulk": can_bulk,
        "bulk_actions": ClientBulkForm.ACTIONS,
        "bulk_trainers": selectors.trainer_list(viewer=request.user) if can_bulk else [],
        "filter": client_filter,
        "search": search,
        "page": page,
        "statuses": ClientStatus.choices,
        "query": _query_without_page(request),
        "has_filters": any(request.GET.get(name) for name in CLIENT_FILTERS),
        "can_import": has_role(request.user, *MANAGEMENT),
    }
    template = "crm/_client_table.html" if is_partial(request) else "crm/client_list.html"
    response = render(request, template, context)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@role_required(*MANAGEMENT)
@require_POST
def client_bulk(request: HttpRequest) -> HttpResponse:
    """A bulk action on the clients picked on the list: first a confirmation page naming what
    will change, then the change through the services, and a message on the list. Export
    goes to the CSV export (its own two-factor check and audit event) with the picked ids."""
    viewer: User = request.user  # type: ignore[assignment]
    form = ClientBulkForm(
        request.POST,
        clients=selectors.client_list(viewer=viewer, prefetch_trainers=False),
        trainers=selectors.trainer_list(viewer=viewer).filter(is_active=True),
    )
    list_url = reverse("crm:client_list")
    if not form.is_valid():
        errors = [error for field_errors in form.errors.values() for error in field_errors]
        messages.error(request, " ".join(str(error) for error in errors))
        return HttpResponseRedirect(list_url)
    data = form.cleaned_data
    clients = list(data["ids"])
    action = data["action"]
    if action == ClientBulkForm.EXPORT:
        ids = ",".join(str(client.pk) for client in clients)
        return HttpResponseRedirect(f"/clients/export.csv?{urlencode({'ids': ids})}")
    if not data["confirm"]:
        return render(
            request,
            "crm/client_bulk_confirm.html",
            {
                "form": form,
                "clients": clients,
                "status_label": dict(ClientStatus.choices).get(data["status"], ""),
            },
        )
    try:
        if action == ClientBulkForm.ASSIGN:
            changed = services.client_trainer_assign(
                actor=viewer, clients=clients, trainer=data["trainer"]
            )
        elif action == ClientBulkForm.TAG:
            changed = services.client_tag_add(actor=viewer, clients=clients, tag=data["tag"])
        else:
            changed = services.client_status_set(
                actor=viewer, clients=clients, status=data["status"]
            )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(
            request,
            ngettext(
                "%(changed)d of %(count)d client changed.",
                "%(changed)d of %(count)d clients changed.",
                len(clients),
            )
            % {"changed": changed, "count": len(clients)},
        )
    return HttpResponseRedirect(list_url)


@role_required(*STAFF)
@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    # Front desk never records health data; the others may.
    with_health = has_role(request.user, Role.OWNER, Role.MANAGER, Role.TRAINER)
    form = ClientForm(request.POST or None, with_health=with_health)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(actor=request.user, **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": client.full_name})
            return HttpResponseRedirect(reverse("crm:client_detail", args=[client.pk]))
    return render(request, "crm/client_form.html", {"form": form, "client": None})


@role_required(*STAFF)
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(request.user, pk)
    if not selectors.can_edit_client(viewer=request.user, client=client):
        raise PermissionDenied
    with_health = selectors.can_see_health_data(viewer=request.user, client=client)
    form = ClientForm(
        request.POST or None,
        with_health=with_health,
        initial=ClientForm.initial_for(client, with_health=with_health),
    )
    if request.method == "POST" and form.is_valid():
        changed = form.service_fields(changed_only=True)
        try:
            if changed:
                services.client_update(actor=request.user, client=client, **changed)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return HttpResponseRedirect(reverse("crm:client_detail", args=[client.pk]))
    return render(request, "crm/client_form.html", {"form": form, "client": client})


def _notes_context(request: HttpRequest, client: Client, form: NoteForm | None = None) -> dict:
    kinds = selectors.note_kinds_for(viewer=request.user)
    return {
        "client": client,
        "notes": selectors.note_list(viewer=request.user, client=client)[:50],
        "note_form": form or NoteForm(kinds=kinds, prefix="note"),
        "note_kinds": kinds,
    }


def _trainers_context(
    request: HttpRequest, client: Client, form: AssignForm | None = None
) -> dict[str, Any]:
    manages = is_management(request.user)
    assignments = list(
        selectors.assignment_list(viewer=request.user)
        .filter(client=client)
        .order_by("ends_on", "-is_primary", "-starts_on", "-pk")
    )
    return {
        "client": client,
        "current_assignments": [a for a in assignments if a.ends_on is None],
        "past_assignments": [a for a in assignments if a.ends_on is not None],
        "can_assign": manages,
        "assign_form": (
            form
            or (
                AssignForm(trainers=_assignable_trainers(request.user), prefix="assign")
                if manages
                else None
            )
        ),
    }


def _assignable_trainers(viewer: User) -> Any:
    return selectors.trainer_list(viewer=viewer).filter(is_active=True)


def _timeline(request: HttpRequest, client: Client, show_health: bool) -> list[dict[str, Any]]:
    events = selectors.client_activity(viewer=request.user, client=client, limit=TIMELINE_LENGTH)
    field_labels = {field.name: field.verbose_name for field in Client._meta.concrete_fields}
    trainer_names = {
        str(assignment.pk): str(assignment.trainer)
        for assignment in selectors.assignment_list(viewer=request.user).filter(client=client)
    }
    note_kinds = dict(NoteKind.choices)
    items = []
    for event in events:
        fields, detail = [], ""
        if event.action == "client.updated":
            fields = [
                field_labels.get(name, name)
                for name in event.changes
                if show_health or name not in HEALTH_FIELDS
            ]
        elif event.object_type == "crm.assignment":
            detail = trainer_names.get(event.object_id, "")
        elif event.action == "note.created":
            kind = (event.changes.get("kind") or {}).get("after")
            detail = note_kinds.get(kind, "")
        items.append(
            {
                "when": event.created_at,
                "label": TIMELINE_LABELS.get(event.action, event.action),
                "actor": event.actor_email,
                "fields": fields,
                "detail": detail,
            }
        )
    return items


def _with_activity(request: HttpRequest, client: Client, response: HttpResponse) -> HttpResponse:
    """Append the refreshed activity timeline to an HTMX fragment, swapped out of band, so the
    change just made shows there too."""
    show_health = selectors.can_see_health_data(viewer=request.user, client=client)
    activity = render(
        request,
        "crm/_activity.html",
        {"timeline": _timeline(request, client, show_health), "oob": True},
    )
    response.content = response.content + activity.content
    return response


def _profile_context(request: HttpRequest, client: Client, **forms: Any) -> dict[str, Any]:
    show_health = selectors.can_see_health_data(viewer=request.user, client=client)
    context: dict[str, Any] = {
        "client": client,
        "show_health": show_health,
        "can_edit": selectors.can_edit_client(viewer=request.user, client=client),
        "parq_answers": parq_rows(client.parq_answers) if show_health else [],
        "timeline": _timeline(request, client, show_health),
        "show_notes": bool(selectors.note_kinds_for(viewer=request.user)),
    }
    context.update(_trainers_context(request, client, forms.get("assign_form")))
    if context["show_notes"]:
        context.update(_notes_context(request, client, forms.get("note_form")))
    return context


@role_required(*STAFF)
@require_http_methods(["GET"])
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(request.user, pk)
    return render(request, "crm/client_detail.html", _profile_context(request, client))


@role_required(*STAFF)
@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(request.user, pk)
    kinds = selectors.note_kinds_for(viewer=request.user)
    if not kinds:
        raise PermissionDenied
    form = NoteForm(request.POST, kinds=kinds, prefix="note")
    if form.is_valid():
        try:
            services.note_create(
                actor=request.user,
                client=client,
                kind=form.cleaned_data["kind"],
                body=form.cleaned_data["body"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if is_partial(request):
                notes = render(request, "crm/_notes.html", _notes_context(request, client))
                return _with_activity(request, client, notes)
            messages.success(request, _("Note added."))
            return HttpResponseRedirect(reverse("crm:client_detail", args=[client.pk]))
    if is_partial(request):
        return render(request, "crm/_notes.html", _notes_context(request, client, form))
    return render(
        request, "crm/client_detail.html", _profile_context(request, client, note_form=form)
    )


def _trainers_response(
    request: HttpRequest, client: Client, form: AssignForm | None = None
) -> HttpResponse:
    if is_partial(request):
        fragment = render(request, "crm/_trainers.html", _trainers_context(request, client, form))
        return fragment if form is not None else _with_activity(request, client, fragment)
    if form is not None:
        return render(
            request, "crm/client_detail.html", _profile_context(request, client, assign_form=form)
        )
    return HttpResponseRedirect(reverse("crm:client_detail", args=[client.pk]) + "#trainers")


@role_required(*MANAGEMENT)
@require_POST
def assignment_add(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_or_404(request.user, pk)
    form = AssignForm(request.POST, trainers=_assignable_trainers(request.user), prefix="assign")
    if form.is_valid():
        try:
            services.assignment_create(
                actor=request.user,
                client=client,
                trainer=form.cleaned_data["trainer"],
                is_primary=form.cleaned_data["is_primary"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _trainers_response(request, client)
    return _trainers_response(request, client, form)


@role_required(*MANAGEMENT)
@require_POST
def assignment_end(request: HttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    client = _client_or_404(request.user, pk)
    assignment = (
        selectors.assignment_list(viewer=request.user)
        .filter(client=client, pk=assignment_pk)
        .first()
    )
    if assignment is None:
        raise Http404
    services.assignment_end(actor=request.user, assignment=assignment)
    return _trainers_response(request, client)


# --- Trainers -------------------------------------------------------------------------------


def _trainer_or_404(viewer: User, pk: int) -> Trainer:
    trainer = selectors.trainer_list(viewer=viewer).filter(pk=pk).first()
    if trainer is None:
        raise Http404
    return trainer


@role_required(*STAFF)
@require_http_methods(["GET"])
def trainer_list(request: HttpRequest) -> HttpResponse:
    trainers = selectors.trainer_list_with_client_counts(viewer=request.user)
    page = Paginator(trainers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "crm/trainer_list.html",
        {
            "page": page,
            "query": _query_without_page(request),
            "can_add": is_management(request.user),
            **certification_dates(),
        },
    )


def _trainer_context(
    request: HttpRequest, trainer: Trainer, form: CertificationForm | None = None
) -> dict[str, Any]:
    manages = is_management(request.user)
    own_profile = trainer.user_id == request.user.pk
    clients = []
    if manages:
        clients = list(
            selectors.assignment_list(viewer=request.user)
            .filter(trainer=trainer, ends_on__isnull=True)
            .order_by("client__last_name", "client__first_name", "pk")
        )
    return {
        "trainer": trainer,
        "certifications": list(trainer.certifications.all()),
        "current_assignments": clients,
        "show_clients": manages,
        "show_rate": manages or own_profile,
        "certification_form": form or CertificationForm(),
        "can_add_certification": manages or own_profile,
        **certification_dates(),
    }


@role_required(*STAFF)
@require_http_methods(["GET"])
def trainer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    trainer = _trainer_or_404(request.user, pk)
    return render(request, "crm/trainer_detail.html", _trainer_context(request, trainer))


@role_required(*MANAGEMENT)
@require_http_methods(["GET", "POST"])
def trainer_create(request: HttpRequest) -> HttpResponse:
    form = TrainerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            trainer = services.trainer_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is now a trainer.") % {"name": trainer.name})
            return HttpResponseRedirect(reverse("crm:trainer_detail", args=[trainer.pk]))
    return render(request, "crm/trainer_form.html", {"form": form})


@role_required(*STAFF)
@require_POST
def certification_add(request: HttpRequest, pk: int) -> HttpResponse:
    trainer = _trainer_or_404(request.user, pk)
    form = CertificationForm(request.POST)
    if form.is_valid():
        try:
            services.certification_create(actor=request.user, trainer=trainer, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Certification added."))
            return HttpResponseRedirect(reverse("crm:trainer_detail", args=[trainer.pk]))
    return render(request, "crm/trainer_detail.html", _trainer_context(request, trainer, form))


# --- Leads ----------------------------------------------------------------------------------


def _lead_or_404(viewer: User, pk: int) -> Lead:
    lead = selectors.lead_list(viewer=viewer).filter(pk=pk).first()
    if lead is None:
        raise Http404
    return lead


def _lead_row(request: HttpRequest, lead: Lead, error: str = "") -> HttpResponse:
    return render(
        request,
        "crm/_lead_row.html",
        {"lead": lead, "status_choices": _lead_status_choices(), "error": error},
    )


def _lead_status_choices() -> list[tuple[str, str]]:
    return LeadStatusForm.base_fields["status"].choices  # type: ignore[attr-defined,return-value]


@role_required(*LEAD_HANDLERS)
@require_http_methods(["GET"])
def lead_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", LeadStatus.NEW)
    sort = sort_value(request.GET.get("sort"), selectors.LEAD_SORTS)
    leads = selectors.lead_list(viewer=request.user)
    if status in LeadStatus.values:
        leads = leads.filter(status=status)
    else:
        status = ""
    leads = selectors.lead_sort(leads, sort)
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "crm/lead_list.html",
        {
            "page": page,
            "status": status,
            "statuses": LeadStatus.choices,
            "status_choices": _lead_status_choices(),
            "sort_links": sort_links(request.GET, sort, selectors.LEAD_SORTS),
            "query": _query_without_page(request),
        },
    )


@role_required(*LEAD_HANDLERS)
@require_POST
def lead_convert(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request.user, pk)
    try:
        client = services.lead_convert(actor=request.user, lead=lead)
    except ValidationError as exc:
        # The lead's details do not make a valid client (a bad email, say): say why.
        error = " ".join(exc.messages)
        if is_partial(request):
            return _lead_row(request, lead, error)
        messages.error(request, error)
        return HttpResponseRedirect(reverse("crm:lead_list"))
    if is_partial(request):
        lead.refresh_from_db()
        return _lead_row(request, lead)
    messages.success(request, _("%(name)s is now a client.") % {"name": client.full_name})
    return HttpResponseRedirect(reverse("crm:client_detail", args=[client.pk]))


@role_required(*LEAD_HANDLERS)
@require_POST
def lead_status(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request.user, pk)
    form = LeadStatusForm(request.POST)
    if not form.is_valid() or lead.status == LeadStatus.CONVERTED:
        return HttpResponse(_("This status cannot be set."), status=400)
    services.lead_update_status(actor=request.user, lead=lead, status=form.cleaned_data["status"])
    if is_partial(request):
        return _lead_row(request, lead)
    return HttpResponseRedirect(reverse("crm:lead_list"))


# --- Public join form -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    """Anyone may leave their details; spam meets a rate limit per IP and a honeypot."""
    form = JoinForm(request.POST or None)
    if request.method == "POST":
        if limited := rate_limit(request, scope=JOIN_THROTTLE_SCOPE):
            return limited
        if form.is_spam:
            # A bot sees the same thank-you page as a person, so it learns nothing.
            return HttpResponseRedirect(reverse("crm:join_thanks"))
        if form.is_valid():
            try:
                services.lead_capture(**form.lead_fields())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return HttpResponseRedirect(reverse("crm:join_thanks"))
    return render(request, "crm/join.html", {"form": form})


@require_http_methods(["GET"])
def join_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "crm/join_thanks.html")
