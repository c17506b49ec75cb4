"""Automation pages (owners and managers): the rules with their on/off switch and the
ready-made ones, the rule editor, and each rule's run log. The staff to-do list (every staff
role). Thin: services decide, selectors read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import Role, User
from apps.automations import selectors, services
from apps.automations.conditions import conditions_describe
from apps.automations.forms import RuleForm, StepForm, StepFormSet, TaskForm
from apps.automations.models import Rule, StaffTask, Trigger
from apps.automations.presets import PRESETS
from apps.automations.services import THRESHOLD_TRIGGERS
from apps.automations.steps import delay_describe, placeholder_help
from apps.core.forms import add_service_errors
from apps.crm import selectors as crm_selectors
from apps.crm.models import Client, Trainer

MANAGERS = (Role.OWNER, Role.MANAGER)
STAFF = (Role.OWNER, Role.MANAGER, Role.TRAINER, Role.FRONT_DESK)
RUNS_PER_PAGE = 50
TASKS_SHOWN = 200


def _rule_or_404(request: HttpRequest, pk: int) -> Rule:
    try:
        return selectors.rule_get(viewer=request.user, pk=pk)
    except Rule.DoesNotExist:
        raise Http404 from None


def _refusal(error: ValidationError | PermissionDenied) -> str:
    return " ".join(getattr(error, "messages", [])) or str(error) or _("Not allowed.")


@role_required(*MANAGERS)
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = list(selectors.rule_list(viewer=request.user))
    trainer_ids = {rule.conditions.get("trainer") for rule in rules} - {None}
    trainers = Trainer.objects.select_related("user").in_bulk(list(trainer_ids))
    used = {rule.preset for rule in rules if rule.preset}
    rows = [
        {
            "rule": rule,
            "conditions": conditions_describe(rule.conditions, trainers),
            "steps": [
                f"{delay_describe(int(step.get('delay_minutes') or 0))}: "
                f"{dict(_action_labels()).get(step['action'], step['action'])}"
                for step in rule.steps
            ],
        }
        for rule in rules
    ]
    return render(
        request,
        "automations/rule_list.html",
        {"rows": rows, "presets": [p for p in PRESETS if p.key not in used]},
    )


def _action_labels() -> list[tuple[str, str]]:
    from apps.automations.models import Action

    return [(value, str(label)) for value, label in Action.choices]


@role_required(*MANAGERS)
@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule_or_404(request, pk)
    enabled = request.POST.get("enabled") == "on"
    services.rule_set_enabled(actor=request.user, rule=rule, enabled=enabled)
    if enabled:
        messages.success(request, _("%(name)s is on.") % {"name": rule.name})
    else:
        messages.success(request, _("%(name)s is paused.") % {"name": rule.name})
    return HttpResponseRedirect(reverse("automations:rule_list"))


@role_required(*MANAGERS)
@require_POST
def preset_add(request: HttpRequest) -> HttpResponse:
    try:
        rule = services.rule_create_from_preset(
            actor=request.user, key=request.POST.get("preset", "")
        )
    except ValidationError as error:
        messages.error(request, _refusal(error))
        return HttpResponseRedirect(reverse("automations:rule_list"))
    messages.success(
        request,
        _("%(name)s added, paused: read it through, then switch it on.") % {"name": rule.name},
    )
    return HttpResponseRedirect(reverse("automations:rule_list"))


def _editor(request: HttpRequest, rule: Rule | None) -> HttpResponse:
    if request.method == "POST":
        form = RuleForm(request.POST)
        steps = StepFormSet(request.POST, prefix="steps")
        if form.is_valid() and steps.is_valid():
            values = {
                "name": form.cleaned_data["name"],
                "trigger": form.cleaned_data["trigger"],
                "threshold": form.cleaned_data.get("threshold"),
                "conditions": form.conditions(),
                "steps": [s for s in (f.step() for f in steps.forms) if s is not None],
            }
            try:
                if rule is None:
                    rule = services.rule_create(actor=request.user, **values)
                    messages.success(request, _("Rule saved. It is paused until you switch it on."))
                else:
                    services.rule_update(actor=request.user, rule=rule, **values)
                    messages.success(request, _("Rule saved."))
                return HttpResponseRedirect(reverse("automations:rule_list"))
            except ValidationError as error:
                add_service_errors(form, error)
    else:
        form = RuleForm(initial=RuleForm.initial_for(rule) if rule else None)
        steps = StepFormSet(
            prefix="steps",
            initial=[StepForm.initial_for(step) for step in rule.steps] if rule else None,
        )
    return render(
        request,
        "automations/rule_form.html",
        {
            "rule": rule,
            "form": form,
            "steps": steps,
            "placeholders": placeholder_help(),
            "threshold_triggers": " ".join(THRESHOLD_TRIGGERS),
            "lead_trigger": Trigger.LEAD_CREATED,
        },
    )


@role_required(*MANAGERS)
def rule_create(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@role_required(*MANAGERS)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, _rule_or_404(request, pk))


@role_required(*MANAGERS)
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule_or_404(request, pk)
    services.rule_delete(actor=request.user, rule=rule)
    messages.success(request, _("Rule deleted."))
    return HttpResponseRedirect(reverse("automations:rule_list"))


@role_required(*MANAGERS)
def rule_runs(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule_or_404(request, pk)
    page = Paginator(selectors.run_list(viewer=request.user, rule=rule), RUNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    labels = dict(_action_labels())
    for run in page.object_list:
        run.entries = [
            {
                **entry,
                "label": labels.get(entry.get("action", ""), entry.get("action", "")),
                "when": _parsed(entry.get("at", "")),
            }
            for entry in run.log
        ]
    return render(request, "automations/rule_runs.html", {"rule": rule, "page": page})


def _parsed(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


# --- Tasks ------------------------------------------------------------------------------------


@role_required(*STAFF)
def task_list(request: HttpRequest) -> HttpResponse:
    show_done = request.GET.get("show") == "done"
    about = _visible_client(request, request.GET.get("client"))
    form = TaskForm(initial={"client": about.pk if about else None})
    if request.method == "POST":
        form = TaskForm(request.POST)
        if form.is_valid():
            assignee = None
            if form.cleaned_data.get("assignee"):
                assignee = User.objects.filter(pk=int(form.cleaned_data["assignee"])).first()
            about = _visible_client(request, form.cleaned_data.get("client"))
            try:
                services.task_create(
                    actor=request.user,
                    title=form.cleaned_data["title"],
                    due_on=form.cleaned_data.get("due_on"),
                    assignee=assignee,
                    client=about,
                )
            except (ValidationError, PermissionDenied) as error:
                if isinstance(error, ValidationError):
                    add_service_errors(form, error)
                else:
                    form.add_error("assignee", _refusal(error))
            else:
                messages.success(request, _("Task added."))
                return HttpResponseRedirect(reverse("automations:task_list"))
    tasks = selectors.task_list(viewer=request.user).filter(done_at__isnull=not show_done)
    if show_done:
        tasks = tasks.order_by("-done_at", "-pk")
    return render(
        request,
        "automations/task_list.html",
        {
            "tasks": list(tasks[:TASKS_SHOWN]),
            "form": form,
            "show_done": show_done,
            "about": about,
        },
    )


def _visible_client(request: HttpRequest, pk: Any) -> Client | None:
    """The client a task is about, if the viewer may see them (else none: never another's)."""
    if not str(pk or "").isdigit():
        return None
    clients = crm_selectors.client_list(viewer=request.user, prefetch_trainers=False)
    return clients.filter(pk=int(pk)).first()


def _task_or_404(request: HttpRequest, pk: int) -> StaffTask:
    task = selectors.task_list(viewer=request.user).filter(pk=pk).first()
    if task is None:
        raise Http404
    return task


def _back(request: HttpRequest) -> HttpResponseRedirect:
    # Back to the page the form was on (Today or the tasks page), never off the site.
    target = request.POST.get("next", "")
    if target not in (reverse("dashboard:home"), reverse("automations:task_list")):
        target = reverse("automations:task_list")
    return HttpResponseRedirect(target)


@role_required(*STAFF)
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    try:
        services.task_set_done(
            actor=request.user, task=task, done=request.POST.get("done", "on") == "on"
        )
    except PermissionDenied as error:
        messages.error(request, _refusal(error))
    return _back(request)


@role_required(*STAFF)
@require_POST
def task_delete(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    try:
        services.task_delete(actor=request.user, task=task)
    except PermissionDenied as error:
        messages.error(request, _refusal(error))
    return _back(request)


def context_for_today(request: HttpRequest) -> dict[str, Any]:
    """The Today page's task list (apps.dashboard)."""
    return {"staff_tasks": selectors.tasks_for_today(viewer=request.user)}
