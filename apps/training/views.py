"""Staff pages of the exercise library and the plan builder.

Thin views: reads through apps.training.selectors, writes through apps.training.services. An
exercise or plan the viewer may not see is a 404. The plan builder is one page whose parts post
small forms; with HTMX each answer is the builder again (`training/_builder.html`), without it a
redirect back to the page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import User
from apps.core.forms import add_service_errors
from apps.core.htmx import is_partial
from apps.training import selectors, services
from apps.training.forms import (
    AssignForm,
    DayForm,
    ExerciseFilterForm,
    ExerciseForm,
    ItemForm,
    PhaseForm,
    PlanForm,
)
from apps.training.models import (
    Exercise,
    PlanDay,
    PlanItem,
    PlanPhase,
    PlanStatus,
    PlanWeek,
    WorkoutPlan,
)

PAGE_SIZE = 25
PICKER_SIZE = 30
BUILDERS = selectors.PLAN_BUILDERS


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _exercise_or_404(viewer: User, pk: int) -> Exercise:
    try:
        return selectors.exercise_get(viewer=viewer, pk=pk)
    except Exercise.DoesNotExist as exc:
        raise Http404 from exc


def _plan_or_404(viewer: User, pk: int) -> WorkoutPlan:
    try:
        return selectors.plan_get(viewer=viewer, pk=pk)
    except WorkoutPlan.DoesNotExist as exc:
        raise Http404 from exc


# --- Exercises -------------------------------------------------------------------------------


@role_required(*BUILDERS)
@require_http_methods(["GET"])
def exercise_list(request: HttpRequest) -> HttpResponse:
    form = ExerciseFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    try:
        exercises = selectors.exercise_list(viewer=request.user, **values)
    except ValidationError:
        exercises = selectors.exercise_list(viewer=request.user)
    page = Paginator(exercises, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "query": _query_without_page(request),
        "can_add": selectors.can_add_exercise(viewer=request.user),
    }
    template = (
        "training/_exercise_table.html" if is_partial(request) else "training/exercise_list.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@role_required(*BUILDERS)
@require_http_methods(["GET"])
def exercise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise_or_404(request.user, pk)
    return render(
        request,
        "training/exercise_detail.html",
        {
            "exercise": exercise,
            "can_edit": selectors.can_edit_exercise(viewer=request.user, exercise=exercise),
        },
    )


def _exercise_initial(exercise: Exercise) -> dict[str, Any]:
    return {field: getattr(exercise, field) for field in services.EXERCISE_FIELDS}


@role_required(*BUILDERS)
@require_http_methods(["GET", "POST"])
def exercise_create(request: HttpRequest) -> HttpResponse:
    """A new own exercise; `?variation_of=<id>` starts from that exercise's fields."""
    choices = selectors.exercise_list(viewer=request.user)
    initial: dict[str, Any] = {}
    parent_id = request.GET.get("variation_of", "")
    if parent_id.isdigit():
        parent = _exercise_or_404(request.user, int(parent_id))
        initial = {**_exercise_initial(parent), "name": "", "aliases": [], "variation_of": parent}
    form = ExerciseForm(request.POST or None, initial=initial, exercises=choices)
    if request.method == "POST" and form.is_valid():
        try:
            exercise = services.exercise_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": exercise.name})
            return HttpResponseRedirect(reverse("training:exercise_detail", args=[exercise.pk]))
    return render(request, "training/exercise_form.html", {"form": form, "exercise": None})


@role_required(*BUILDERS)
@require_http_methods(["GET", "POST"])
def exercise_edit(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise_or_404(request.user, pk)
    if not selectors.can_edit_exercise(viewer=request.user, exercise=exercise):
        raise PermissionDenied
    choices = selectors.exercise_list(viewer=request.user).exclude(pk=exercise.pk)
    form = ExerciseForm(
        request.POST or None, initial=_exercise_initial(exercise), exercises=choices
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.exercise_update(actor=request.user, exercise=exercise, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("training:exercise_detail", args=[exercise.pk]))
    return render(request, "training/exercise_form.html", {"form": form, "exercise": exercise})


@role_required(*BUILDERS)
@require_POST
def exercise_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (or reactivate) an own exercise."""
    exercise = _exercise_or_404(request.user, pk)
    if not selectors.can_edit_exercise(viewer=request.user, exercise=exercise):
        raise PermissionDenied
    services.exercise_update(
        actor=request.user,
        exercise=exercise,
        is_active=request.POST.get("active") == "1",
    )
    return HttpResponseRedirect(reverse("training:exercise_detail", args=[exercise.pk]))


@role_required(*BUILDERS)
@require_http_methods(["GET"])
def exercise_picker(request: HttpRequest) -> HttpResponse:
    """The builder's exercise picker: the options matching `search`."""
    exercises = selectors.exercise_list(viewer=request.user, search=request.GET.get("search", ""))
    return render(
        request,
        "training/_exercise_options.html",
        {"exercises": exercises[:PICKER_SIZE], "field_id": request.GET.get("field", "")},
    )


# --- Plans -----------------------------------------------------------------------------------


@role_required(*BUILDERS)
@require_http_methods(["GET"])
def plan_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "templates")
    search = request.GET.get("search", "").strip()
    plans = selectors.plan_list(
        viewer=request.user, is_template=kind != "clients", search=search
    ).order_by("name", "pk")
    if kind == "clients":
        plans = plans.order_by("client__last_name", "client__first_name", "-start_date")
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "kind": kind, "search": search, "query": _query_without_page(request)}
    template = "training/_plan_table.html" if is_partial(request) else "training/plan_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@role_required(*BUILDERS)
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return HttpResponseRedirect(reverse("training:plan_detail", args=[plan.pk]))
    return render(request, "training/plan_form.html", {"form": form, "plan": None})


@role_required(*BUILDERS)
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(request.user, pk)
    if not selectors.can_edit_plan(viewer=request.user, plan=plan):
        raise PermissionDenied
    initial = {f: getattr(plan, f) for f in services.PLAN_FIELDS}
    form = PlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_update(actor=request.user, plan=plan, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return HttpResponseRedirect(reverse("training:plan_detail", args=[plan.pk]))
    return render(request, "training/plan_form.html", {"form": form, "plan": plan})


def _builder_context(request: HttpRequest, plan: WorkoutPlan, **extra: Any) -> dict[str, Any]:
    can_edit = (
        selectors.can_edit_plan(viewer=request.user, plan=plan)
        and plan.status != PlanStatus.ARCHIVED
    )
    return {
        "plan": plan,
        "can_edit": can_edit,
        "phase_form": PhaseForm(),
        "day_form": DayForm(),
        "item_form": ItemForm(exercises=Exercise.objects.none()),
        "errors": extra.pop("errors", None),
        **extra,
    }


@role_required(*BUILDERS)
@require_http_methods(["GET"])
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(request.user, pk)
    context = _builder_context(request, plan)
    context["can_assign"] = plan.is_template and plan.status != PlanStatus.ARCHIVED
    context["scheduled"] = (
        selectors.scheduled_workout_list(viewer=request.user, plan=plan)[:60]
        if not plan.is_template
        else []
    )
    return render(request, "training/plan_detail.html", context)


FIELD_LABELS = {
    **{name: field.label for name, field in ItemForm.base_fields.items()},
    **{name: field.label for name, field in DayForm.base_fields.items()},
}


def _error_lines(error: ValidationError) -> list[str]:
    """Each message with the label of the field it is about."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    lines = []
    for field, messages_of_field in error.message_dict.items():
        label = FIELD_LABELS.get(field)
        lines += [f"{label}: {message}" if label else message for message in messages_of_field]
    return lines


def _builder_answer(request: HttpRequest, plan_pk: int, error: ValidationError | None) -> Any:
    """After a builder action: the builder part (HTMX) or the page again."""
    errors = _error_lines(error) if error is not None else None
    if errors and not is_partial(request):
        for message in errors:
            messages.error(request, message)
    if not is_partial(request):
        return HttpResponseRedirect(reverse("training:plan_detail", args=[plan_pk]))
    plan = _plan_or_404(request.user, plan_pk)
    return render(request, "training/_builder.html", _builder_context(request, plan, errors=errors))


def _part_or_404(model: type, viewer: User, pk: int, plan_path: str) -> Any:
    plans = selectors.plan_list(viewer=viewer)
    part = model.objects.filter(pk=pk, **{f"{plan_path}__in": plans}).first()
    if part is None:
        raise Http404
    return part


def _run(request: HttpRequest, plan_pk: int, action: Any) -> HttpResponse:
    try:
        action()
    except ValidationError as exc:
        return _builder_answer(request, plan_pk, exc)
    return _builder_answer(request, plan_pk, None)


@role_required(*BUILDERS)
@require_POST
def phase_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(request.user, pk)
    form = PhaseForm(request.POST)
    if not form.is_valid():
        return _builder_answer(request, plan.pk, ValidationError(form.errors))
    return _run(
        request,
        plan.pk,
        lambda: services.phase_add(actor=request.user, plan=plan, name=form.cleaned_data["name"]),
    )


@role_required(*BUILDERS)
@require_POST
def phase_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """up, down, remove, or add_week on a phase."""
    phase = _part_or_404(PlanPhase, request.user, pk, "plan")
    kw = {"actor": request.user}
    actions = {
        "up": lambda: services.phase_move(phase=phase, direction="up", **kw),
        "down": lambda: services.phase_move(phase=phase, direction="down", **kw),
        "remove": lambda: services.phase_remove(phase=phase, **kw),
        "add_week": lambda: services.week_add(phase=phase, **kw),
    }
    if what not in actions:
        raise Http404
    return _run(request, phase.plan_id, actions[what])


@role_required(*BUILDERS)
@require_POST
def week_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """remove, duplicate, or add_day on a week."""
    week = _part_or_404(PlanWeek, request.user, pk, "plan")
    kw = {"actor": request.user}
    if what == "add_day":
        form = DayForm(request.POST)
        if not form.is_valid():
            return _builder_answer(request, week.plan_id, ValidationError(form.errors))
        return _run(
            request, week.plan_id, lambda: services.day_add(week=week, **form.cleaned_data, **kw)
        )
    actions = {
        "remove": lambda: services.week_remove(week=week, **kw),
        "duplicate": lambda: services.week_add(phase=week.phase, copy_from=week, **kw),
    }
    if what not in actions:
        raise Http404
    return _run(request, week.plan_id, actions[what])


@role_required(*BUILDERS)
@require_POST
def day_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """remove, or add_item on a day."""
    day = _part_or_404(PlanDay, request.user, pk, "week__plan")
    plan_pk = day.week.plan_id
    kw = {"actor": request.user}
    if what == "remove":
        return _run(request, plan_pk, lambda: services.day_remove(day=day, **kw))
    if what != "add_item":
        raise Http404
    form = ItemForm(request.POST, exercises=selectors.exercise_list(viewer=request.user))
    if not form.is_valid():
        return _builder_answer(request, plan_pk, ValidationError(form.errors))
    values = form.values()
    exercise = values.pop("exercise")
    return _run(
        request, plan_pk, lambda: services.item_add(day=day, exercise=exercise, **values, **kw)
    )


@role_required(*BUILDERS)
@require_POST
def item_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """up, down or remove an item."""
    item = _part_or_404(PlanItem, request.user, pk, "day__week__plan")
    plan_pk = item.day.week.plan_id
    kw = {"actor": request.user}
    actions = {
        "up": lambda: services.item_move(item=item, direction="up", **kw),
        "down": lambda: services.item_move(item=item, direction="down", **kw),
        "remove": lambda: services.item_remove(item=item, **kw),
    }
    if what not in actions:
        raise Http404
    return _run(request, plan_pk, actions[what])


@role_required(*BUILDERS)
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an item's prescription: the form in place of the item (HTMX) or on a page."""
    item = _part_or_404(PlanItem, request.user, pk, "day__week__plan")
    plan = item.day.week.plan
    if not selectors.can_edit_plan(viewer=request.user, plan=plan):
        raise PermissionDenied
    # The item's own exercise stays a choice even if it was deactivated since.
    exercises = selectors.exercise_list(viewer=request.user, include_inactive=True)
    if request.method == "POST":
        form = ItemForm(request.POST, exercises=exercises)
        if not form.is_valid():
            return _builder_answer(request, plan.pk, ValidationError(form.errors))
        values = form.values()
        return _run(
            request,
            plan.pk,
            lambda: services.item_update(actor=request.user, item=item, **values),
        )
    initial = {name: getattr(item, name) for name in ItemForm.base_fields}
    form = ItemForm(initial=initial, exercises=exercises, auto_id=f"item{item.pk}_%s")
    template = "training/_item_edit.html" if is_partial(request) else "training/item_edit.html"
    return render(request, template, {"item": item, "form": form, "plan": plan})


@role_required(*BUILDERS)
@require_POST
def plan_copy(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(request.user, pk)
    copy = services.plan_copy(actor=request.user, plan=plan)
    messages.success(request, _("Copied: you are editing the copy."))
    return HttpResponseRedirect(reverse("training:plan_detail", args=[copy.pk]))


@role_required(*BUILDERS)
@require_POST
def plan_archive(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(request.user, pk)
    services.plan_archive(actor=request.user, plan=plan)
    messages.success(request, _("The plan was archived."))
    return HttpResponseRedirect(reverse("training:plan_detail", args=[plan.pk]))


@role_required(*BUILDERS)
@require_http_methods(["GET", "POST"])
def plan_assign(request: HttpRequest) -> HttpResponse:
    """Assign a template to a client: `?template=` from a plan page, `?client=` from a client's
    profile."""
    templates = selectors.plan_list(viewer=request.user, is_template=True).exclude(
        status=PlanStatus.ARCHIVED
    )
    clients = selectors.assignable_clients(viewer=request.user)
    initial = {key: request.GET.get(key) for key in ("template", "client") if request.GET.get(key)}
    form = AssignForm(request.POST or None, initial=initial, templates=templates, clients=clients)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_assign(
                template=form.cleaned_data["template"],
                client=form.cleaned_data["client"],
                start_date=form.cleaned_data["start_date"],
                by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(plan)s was assigned to %(client)s.")
                % {"plan": plan.name, "client": plan.client.full_name},  # type: ignore[union-attr]
            )
            return HttpResponseRedirect(reverse("training:plan_detail", args=[plan.pk]))
    return render(request, "training/plan_assign.html", {"form": form})
