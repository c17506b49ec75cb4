"""The exercise library and plans in the gym's back office (/admin/): owners and managers with
two-factor, like the CRM's admin. Writes go through apps.training.services: library exercises
are read-only, a gym's own exercises are added and changed through `exercise_create` /
`exercise_update`, plans are copied, archived or deleted through their services. A plan's
structure is built on the plan builder page (/training/plans/<id>/), linked from here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.backoffice import GymAdmin
from apps.training import selectors, services
from apps.training.models import Exercise, ScheduledWorkout, WorkoutPlan

EXERCISE_FORM_FIELDS = tuple(f for f in services.EXERCISE_FIELDS)


@admin.register(Exercise)
class ExerciseAdmin(GymAdmin):
    list_display = ("name", "category", "mechanics", "is_library", "is_active", "variation_of")
    list_filter = ("is_library", "is_active", "category", "mechanics", "tracking")
    search_fields = ("name", "search_text")
    list_select_related = ("variation_of",)
    list_per_page = 50
    fields = (*EXERCISE_FORM_FIELDS, "slug", "licence", "is_library", "created_by")
    readonly_fields = ("slug", "licence", "is_library", "created_by")
    raw_id_fields = ("variation_of",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Exercise]:
        return selectors.exercise_list(viewer=request.user, include_inactive=True)  # type: ignore[arg-type]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_library:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and not obj.is_library and self._allowed(request)

    def save_model(self, request: HttpRequest, obj: Exercise, form: Any, change: bool) -> None:
        values = {field: form.cleaned_data[field] for field in EXERCISE_FORM_FIELDS}
        if change:
            saved = services.exercise_update(actor=request.user, exercise=obj, **values)
        else:
            saved = services.exercise_create(actor=request.user, **values)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Exercise) -> None:
        services.exercise_delete(actor=request.user, exercise=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Exercise]) -> None:
        for exercise in queryset:
            services.exercise_delete(actor=request.user, exercise=exercise)


@admin.register(WorkoutPlan)
class WorkoutPlanAdmin(GymAdmin):
    list_display = ("name", "is_template", "client", "status", "start_date", "builder")
    list_filter = ("is_template", "status")
    search_fields = ("name", "client__first_name", "client__last_name")
    list_per_page = 50
    fields = ("name", "description", "goal", "status")
    actions = ("copy_plans", "archive_plans")

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkoutPlan]:
        return selectors.plan_list(viewer=request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request) and (obj is None or obj.is_template)

    @admin.display(description=gettext_lazy("plan builder"))
    def builder(self, plan: WorkoutPlan) -> str:
        url = reverse("training:plan_detail", args=[plan.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open"))

    def save_model(self, request: HttpRequest, obj: WorkoutPlan, form: Any, change: bool) -> None:
        values = {field: form.cleaned_data[field] for field in self.fields}
        if change:
            saved = services.plan_update(actor=request.user, plan=obj, **values)
        else:
            saved = services.plan_create(actor=request.user, **values)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: WorkoutPlan) -> None:
        services.plan_delete(actor=request.user, plan=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WorkoutPlan]) -> None:
        for plan in queryset:
            services.plan_delete(actor=request.user, plan=plan)

    @admin.action(description=gettext_lazy("Copy the selected plans as new templates"))
    def copy_plans(self, request: HttpRequest, queryset: QuerySet[WorkoutPlan]) -> None:
        def run() -> str:
            for plan in queryset:
                services.plan_copy(actor=request.user, plan=plan)
            return _("%(n)s plans copied.") % {"n": len(queryset)}

        self._run_action(request, run)

    @admin.action(description=gettext_lazy("Archive the selected plans"))
    def archive_plans(self, request: HttpRequest, queryset: QuerySet[WorkoutPlan]) -> None:
        def run() -> str:
            for plan in queryset:
                services.plan_archive(actor=request.user, plan=plan)
            return _("%(n)s plans archived.") % {"n": len(queryset)}

        self._run_action(request, run)


@admin.register(ScheduledWorkout)
class ScheduledWorkoutAdmin(GymAdmin):
    """Read-only: the calendar follows the plans (assign, change, archive)."""

    list_display = ("date", "client", "plan", "day", "status")
    list_filter = ("status", ("date", admin.DateFieldListFilter))
    search_fields = ("client__first_name", "client__last_name", "plan__name")
    date_hierarchy = "date"
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[ScheduledWorkout]:
        return selectors.scheduled_workout_list(viewer=request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
