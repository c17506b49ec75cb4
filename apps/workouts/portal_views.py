"""The client's workout pages in the portal: what is planned, and logging a workout set by set.

Every set is its own small form posted with HTMX, so a phone that loses its connection loses at
most the set it was sending; each form carries a fresh client_uuid, so sending it again logs
nothing twice. Without JavaScript the same forms post and redirect back.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.core.forms import add_service_errors
from apps.portal.views import _own_client, client_required
from apps.training.models import Exercise, PlanItem, ScheduledWorkoutStatus
from apps.workouts import selectors, services
from apps.workouts.forms import CardioLogForm, CompleteForm, SetLogForm
from apps.workouts.models import WorkoutLog

UPCOMING_DAYS = 14
RECENT_SHOWN = 10


def _units(request: HttpRequest) -> tuple[str, str]:
    load_unit = services.preferred_load_unit(request.user)
    return load_unit, "mi" if load_unit == "lb" else "km"


def _own_log(request: HttpRequest, log_id: int) -> WorkoutLog:
    client = _own_client(request.user)  # type: ignore[arg-type]
    log = (
        selectors.workout_log_list(viewer=request.user, client=client)  # type: ignore[arg-type]
        .filter(pk=log_id)
        .first()
    )
    if log is None:
        raise Http404
    return log


def _log_url(log: WorkoutLog) -> str:
    return reverse("portal:workout_log", args=[log.pk])


@client_required
@require_GET
def workout_list(request: HttpRequest) -> HttpResponse:
    """Today's and the coming days' workouts, and the latest logs."""
    client = _own_client(request.user)  # type: ignore[arg-type]
    today = selectors.gym_today()
    upcoming = list(
        selectors.scheduled_workout_list(viewer=request.user)  # type: ignore[arg-type]
        .filter(
            client=client,
            status=ScheduledWorkoutStatus.SCHEDULED,
            date__gte=today,
            date__lte=today + timedelta(days=UPCOMING_DAYS),
        )
        .order_by("date", "pk")
    )
    recent = list(
        selectors.workout_log_list(viewer=request.user, client=client)[:RECENT_SHOWN]  # type: ignore[arg-type]
    )
    open_logs = {log.scheduled_workout_id: log for log in recent if log.scheduled_workout_id}
    return render(
        request,
        "workouts/portal/list.html",
        {
            "client": client,
            "today": today,
            "today_workouts": [w for w in upcoming if w.date == today],
            "upcoming": [w for w in upcoming if w.date > today],
            "recent": recent,
            "open_logs": open_logs,
        },
    )


@client_required
@require_POST
def workout_start(request: HttpRequest) -> HttpResponse:
    """Start (or reopen) a scheduled workout, or a free one."""
    client = _own_client(request.user)  # type: ignore[arg-type]
    scheduled = None
    scheduled_id = request.POST.get("scheduled_workout", "")
    if scheduled_id:
        scheduled = (
            selectors.scheduled_workout_list(viewer=request.user)  # type: ignore[arg-type]
            .filter(pk=scheduled_id if scheduled_id.isdigit() else 0, client=client)
            .first()
        )
        if scheduled is None:
            raise Http404
    log, _created = services.workout_start(
        actor=request.user,  # type: ignore[arg-type]
        client=client,
        scheduled_workout=scheduled,
    )
    return HttpResponseRedirect(_log_url(log))


def _page_context(
    request: HttpRequest, log: WorkoutLog, extra: list[int] | None = None
) -> dict[str, Any]:
    load_unit, distance_unit = _units(request)
    blocks = selectors.workout_blocks(log=log, unit=load_unit, extra_exercise_ids=extra)
    return {
        "log": log,
        "blocks": blocks,
        "load_unit": load_unit,
        "distance_unit": distance_unit,
        "complete_form": CompleteForm(
            initial={"perceived_effort": log.perceived_effort, "notes": log.notes}
        ),
    }


def _block_forms(block: selectors.Block, load_unit: str, distance_unit: str) -> dict[str, Any]:
    common = {
        "exercise": block.exercise.pk,
        "plan_item": block.plan_item.pk if block.plan_item else None,
        "client_uuid": uuid.uuid4(),
    }
    if block.is_cardio:
        return {"cardio_form": CardioLogForm(initial={**common, "distance_unit": distance_unit})}
    prefill = {k: v for k, v in block.prefill.items() if k != "from_last_time"}
    if prefill.get("rpe") is not None:
        prefill["rpe"] = format(prefill["rpe"], "f")
    return {
        "set_form": SetLogForm(
            initial={
                **common,
                **prefill,
                "set_number": block.next_set_number,
                "load_unit": load_unit,
            }
        )
    }


@client_required
@require_GET
def workout_log(request: HttpRequest, log_id: int) -> HttpResponse:
    """The logging page: each exercise with its prescription and a form for its next set."""
    log = _own_log(request, log_id)
    extra = request.GET.getlist("add")
    context = _page_context(request, log, [int(pk) for pk in extra if pk.isdigit()])
    for block in context["blocks"]:
        block.forms = _block_forms(block, context["load_unit"], context["distance_unit"])
    context["exercises"] = Exercise.objects.filter(is_active=True).only("pk", "name")
    return render(request, "workouts/portal/log.html", context)


def _render_block(
    request: HttpRequest,
    log: WorkoutLog,
    key: str,
    *,
    records: list[str] | None = None,
    form: Any = None,
    just_logged: bool = False,
) -> HttpResponse:
    """The HTMX answer: the block of one exercise, re-rendered (with 200 even when the form has
    errors: htmx swaps in only successful answers)."""
    load_unit, distance_unit = _units(request)
    extra = [int(key[1:])] if key.startswith("e") and key[1:].isdigit() else []
    blocks = selectors.workout_blocks(log=log, unit=load_unit, extra_exercise_ids=extra)
    block = next((b for b in blocks if b.key == key), None)
    if block is None:
        raise Http404
    block.forms = _block_forms(block, load_unit, distance_unit)
    if form is not None:
        block.forms["cardio_form" if block.is_cardio else "set_form"] = form
    return render(
        request,
        "workouts/portal/_block.html",
        {
            "log": log,
            "block": block,
            "records": records or [],
            "load_unit": load_unit,
            "distance_unit": distance_unit,
            "just_logged": just_logged,
        },
    )


def _block_key(plan_item_id: int | None, exercise_id: int) -> str:
    return f"i{plan_item_id}" if plan_item_id else f"e{exercise_id}"


def _targets(log: WorkoutLog, data: dict[str, Any]) -> tuple[Exercise, PlanItem | None]:
    exercise = Exercise.objects.filter(pk=data["exercise"], is_active=True).first()
    if exercise is None:
        raise Http404
    plan_item = None
    if data.get("plan_item"):
        plan_item = PlanItem.objects.filter(pk=data["plan_item"]).select_related("exercise").first()
        if plan_item is None:
            raise Http404
    return exercise, plan_item


def _answer(request: HttpRequest, log: WorkoutLog, key: str, **kwargs: Any) -> HttpResponse:
    if request.headers.get("HX-Request"):
        return _render_block(request, log, key, **kwargs)
    if kwargs.get("form") is not None:
        messages.error(request, _("That set was not saved: check the numbers."))
    return HttpResponseRedirect(f"{_log_url(log)}#block-{key}")


@client_required
@require_POST
def set_log(request: HttpRequest, log_id: int) -> HttpResponse:
    log = _own_log(request, log_id)
    form = SetLogForm(request.POST)
    if not form.is_valid():
        key = _block_key(form.cleaned_data.get("plan_item"), form.cleaned_data.get("exercise", 0))
        return _answer(request, log, key, form=form)
    data = form.cleaned_data
    exercise, plan_item = _targets(log, data)
    key = _block_key(data.get("plan_item"), exercise.pk)
    try:
        logged, _created = services.set_log_create(
            actor=request.user,  # type: ignore[arg-type]
            log=log,
            exercise=exercise,
            plan_item=plan_item,
            set_number=data["set_number"],
            reps=data["reps"],
            load=data.get("load"),
            load_unit=data["load_unit"],
            rpe=data.get("rpe"),
            rir=data.get("rir"),
            client_uuid=data["client_uuid"],
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _answer(request, log, key, form=form)
    return _answer(
        request, log, key, records=selectors.set_records_beaten(logged), just_logged=True
    )


@client_required
@require_POST
def set_delete(request: HttpRequest, log_id: int, set_id: int) -> HttpResponse:
    log = _own_log(request, log_id)
    target = log.sets.filter(pk=set_id).first()
    if target is None:
        raise Http404
    key = _block_key(target.plan_item_id, target.exercise_id)
    services.set_log_delete(actor=request.user, set_log=target)  # type: ignore[arg-type]
    return _answer(request, log, key)


@client_required
@require_POST
def cardio_log(request: HttpRequest, log_id: int) -> HttpResponse:
    log = _own_log(request, log_id)
    form = CardioLogForm(request.POST)
    if not form.is_valid():
        key = _block_key(form.cleaned_data.get("plan_item"), form.cleaned_data.get("exercise", 0))
        return _answer(request, log, key, form=form)
    exercise, plan_item = _targets(log, form.cleaned_data)
    key = _block_key(form.cleaned_data.get("plan_item"), exercise.pk)
    try:
        services.cardio_log_create(
            actor=request.user,  # type: ignore[arg-type]
            log=log,
            exercise=exercise,
            plan_item=plan_item,
            **form.service_fields(),
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _answer(request, log, key, form=form)
    return _answer(request, log, key, just_logged=True)


@client_required
@require_POST
def exercise_skip(request: HttpRequest, log_id: int) -> HttpResponse:
    log = _own_log(request, log_id)
    item_id = request.POST.get("plan_item", "")
    plan_item = (
        PlanItem.objects.filter(pk=item_id).select_related("exercise").first()
        if item_id.isdigit()
        else None
    )
    if plan_item is None:
        raise Http404
    try:
        services.exercise_skip(actor=request.user, log=log, plan_item=plan_item)  # type: ignore[arg-type]
    except ValidationError:
        raise Http404 from None
    return _answer(request, log, f"i{plan_item.pk}")


@client_required
@require_POST
def workout_complete(request: HttpRequest, log_id: int) -> HttpResponse:
    log = _own_log(request, log_id)
    form = CompleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check how hard it was: a number from 1 to 10."))
        return HttpResponseRedirect(_log_url(log))
    try:
        services.workout_complete(
            actor=request.user,  # type: ignore[arg-type]
            log=log,
            perceived_effort=form.cleaned_data["perceived_effort"],
            notes=form.cleaned_data["notes"],
        )
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("Workout saved. Well done!"))
    return HttpResponseRedirect(reverse("portal:workouts"))
