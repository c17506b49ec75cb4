"""Staff pages: a client's training progress, and their weekly target."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.decorators import role_required
from apps.accounts.models import Role
from apps.crm.models import Client
from apps.training.vocabulary import MuscleGroup
from apps.workouts import selectors, services
from apps.workouts.forms import WeeklyTargetForm

TRAINING_ROLES = (Role.OWNER, Role.MANAGER, Role.TRAINER)
CHART_SCRIPT = "vendor/chartjs/chart.umd.min.js"


def _client(request: HttpRequest, client_id: int) -> Client:
    client = selectors.trainable_clients(viewer=request.user).filter(pk=client_id).first()  # type: ignore[arg-type]
    if client is None:
        raise Http404
    return client


def _chart_available() -> bool:
    """Whether the vendored Chart.js is there (another part of the app ships it)."""
    from django.contrib.staticfiles import finders

    return finders.find(CHART_SCRIPT) is not None


@role_required(*TRAINING_ROLES)
@require_GET
def client_progress(request: HttpRequest, client_id: int) -> HttpResponse:
    """Adherence, streak, records, estimated 1RMs, weekly volume and recent workouts."""
    client = _client(request, client_id)
    stats = selectors.client_training_stats(viewer=request.user, client=client)  # type: ignore[arg-type]
    groups = sorted({group for week in stats.weekly_volume for group in week["groups"]})
    labels = dict(MuscleGroup.choices)
    return render(
        request,
        "workouts/client_progress.html",
        {
            "client": client,
            "stats": stats,
            "groups": [labels.get(group, group) for group in groups],
            "volume_rows": [
                {
                    "week": week["week"],
                    "cells": [week["groups"].get(group) for group in groups],
                }
                for week in stats.weekly_volume
            ],
            "target_form": WeeklyTargetForm(initial={"workouts_per_week": stats.weekly_target}),
            "chart_script": static(CHART_SCRIPT) if _chart_available() else "",
            "chart_data": {
                "labels": [week["week"].isoformat() for week in stats.weekly_volume],
                "series": [
                    {
                        "label": str(labels.get(group, group)),
                        "values": [
                            float(week["groups"][group]["volume_kg"])
                            if group in week["groups"]
                            else 0
                            for week in stats.weekly_volume
                        ],
                    }
                    for group in groups
                ],
            },
        },
    )


@role_required(*TRAINING_ROLES)
@require_POST
def weekly_target(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    form = WeeklyTargetForm(request.POST)
    if form.is_valid():
        try:
            services.weekly_target_set(
                actor=request.user,  # type: ignore[arg-type]
                client=client,
                workouts_per_week=form.cleaned_data["workouts_per_week"],
            )
        except PermissionDenied:
            raise Http404 from None
        messages.success(request, _("Weekly target saved."))
    else:
        messages.error(request, _("Choose a weekly target from 1 to 14 workouts."))
    return HttpResponseRedirect(reverse("workouts:client_progress", args=[client.pk]))
