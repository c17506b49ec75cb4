"""Training endpoints: the exercise library, plans (read nested, written part by part through
flat endpoints: plan-phases, plan-weeks, plan-days, plan-items) and scheduled workouts.

Thin: what a viewer may see comes from apps.training.selectors (anything else is a 404), every
write goes through apps.training.services; their ValidationError is a 400 naming the field and
their PermissionDenied a 403 that carries the service's message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import HasRole
from apps.crm.api.views import PROBLEM_400, PROBLEM_403, PROBLEM_404, WRITE_PROBLEMS
from apps.training import selectors, services
from apps.training.api.serializers import (
    DayWriteSerializer,
    ExerciseSerializer,
    ExerciseVariationSerializer,
    ExerciseWriteSerializer,
    ItemWriteSerializer,
    MoveSerializer,
    PhaseWriteSerializer,
    PlanAssignSerializer,
    PlanCopySerializer,
    PlanDetailSerializer,
    PlanSerializer,
    PlanWriteSerializer,
    ScheduledWorkoutQuerySerializer,
    ScheduledWorkoutSerializer,
    WeekWriteSerializer,
)
from apps.training.models import (
    Exercise,
    PlanDay,
    PlanItem,
    PlanPhase,
    PlanWeek,
    ScheduledWorkout,
    WorkoutPlan,
)


class CanReadTraining(HasRole):
    roles = frozenset(selectors.EXERCISE_READERS)


def call_service(function: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a service; its PermissionDenied keeps its message in the 403 (the shared handler
    would replace it with a generic one)."""
    try:
        return function(**kwargs)
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None) from exc


class TrainingViewSet(viewsets.GenericViewSet):
    """get_queryset from a selector with the requesting user; none during schema generation."""

    model: type[Model]
    permission_classes = [CanReadTraining]
    filter_backends: list[Any] = []

    def visible(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.visible()


def _flag(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name, "").strip().lower()
    if not value:
        return None
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise serializers.ValidationError({name: [_("Use true or false.")]})


# --- Exercises -------------------------------------------------------------------------------

EXERCISE_FILTERS = [
    OpenApiParameter("search", OpenApiTypes.STR, description=_("Part of the name or of an alias.")),
    OpenApiParameter(
        "muscle", OpenApiTypes.STR, description=_("A primary or secondary muscle (vocabulary).")
    ),
    OpenApiParameter("equipment", OpenApiTypes.STR, description=_("Equipment (vocabulary).")),
    OpenApiParameter("category", OpenApiTypes.STR, description=_("Category (vocabulary).")),
    OpenApiParameter("mechanics", OpenApiTypes.STR, description=_("compound or isolation.")),
    OpenApiParameter(
        "source", OpenApiTypes.STR, enum=["library", "gym"], description=_("Shipped or own.")
    ),
    OpenApiParameter(
        "include_inactive", OpenApiTypes.BOOL, description=_("Staff: also deactivated ones.")
    ),
]
LIBRARY_READ_ONLY = _("Library exercises are read-only: create a variation of it instead.")


@extend_schema_view(
    list=extend_schema(
        summary=_("Exercises: the shipped library and the gym's own"),
        parameters=EXERCISE_FILTERS,
        responses={200: ExerciseSerializer(many=True), **PROBLEM_400},
    ),
    retrieve=extend_schema(responses={200: ExerciseSerializer, **PROBLEM_404}),
    create=extend_schema(
        summary=_("Add one of the gym's own exercises"),
        request=ExerciseWriteSerializer,
        responses={201: ExerciseSerializer, **PROBLEM_400, **PROBLEM_403},
    ),
    update=extend_schema(
        summary=_("Change one of the gym's own exercises (library ones: 403)"),
        request=ExerciseWriteSerializer,
        responses={200: ExerciseSerializer, **WRITE_PROBLEMS},
    ),
    partial_update=extend_schema(
        summary=_("Change some fields of one of the gym's own exercises (library ones: 403)"),
        request=ExerciseWriteSerializer,
        responses={200: ExerciseSerializer, **WRITE_PROBLEMS},
    ),
    destroy=extend_schema(
        summary=_("Delete an unused own exercise (library ones: 403; used ones: 400)"),
        responses={204: None, **WRITE_PROBLEMS},
    ),
)
class ExerciseViewSet(
    TrainingViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    model = Exercise
    serializer_class = ExerciseSerializer

    def visible(self) -> QuerySet[Exercise]:
        if self.action != "list":
            return selectors.exercise_list(viewer=self.request.user, include_inactive=True)
        params = self.request.query_params
        return selectors.exercise_list(
            viewer=self.request.user,
            include_inactive=bool(_flag(self.request, "include_inactive")),
            **{name: params.get(name, "") for name in selectors.EXERCISE_FILTER_PARAMS},
        )

    def _represent(self, exercise: Exercise, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=exercise.pk)
        return Response(ExerciseSerializer(fresh, context=self.get_serializer_context()).data, code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ExerciseWriteSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        exercise = call_service(
            services.exercise_create,
            actor=request.user,
            **serializer.validated_data,
        )
        return self._represent(exercise, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        exercise = self.get_object()
        if exercise.is_library:
            raise exceptions.PermissionDenied(LIBRARY_READ_ONLY)
        serializer = ExerciseWriteSerializer(
            exercise,
            data=request.data,
            partial=kwargs.get("partial", False),
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        exercise = call_service(
            services.exercise_update,
            actor=request.user,
            exercise=exercise,
            **serializer.validated_data,
        )
        return self._represent(exercise)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        exercise = self.get_object()
        if exercise.is_library:
            raise exceptions.PermissionDenied(LIBRARY_READ_ONLY)
        call_service(services.exercise_delete, actor=request.user, exercise=exercise)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=_("Make the gym's own variation of an exercise (library or own)"),
        description=_("Fields left out are taken from the exercise it varies; `name` is new."),
        request=ExerciseVariationSerializer,
        responses={201: ExerciseSerializer, **WRITE_PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def variation(self, request: Request, pk: str | None = None) -> Response:
        parent = self.get_object()
        serializer = ExerciseVariationSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        exercise = call_service(
            services.exercise_variation_create,
            actor=request.user,
            of=parent,
            **serializer.validated_data,
        )
        return self._represent(exercise, status.HTTP_201_CREATED)


# --- Plans -----------------------------------------------------------------------------------

PLAN_FILTERS = [
    OpenApiParameter("is_template", OpenApiTypes.BOOL, description=_("Templates or client plans.")),
    OpenApiParameter("client", OpenApiTypes.INT, description=_("Plans of this client.")),
    OpenApiParameter("status", OpenApiTypes.STR, description=_("draft, active, completed...")),
    OpenApiParameter("search", OpenApiTypes.STR, description=_("Part of the name.")),
]


@extend_schema_view(
    list=extend_schema(
        summary=_("Plans: templates and client plans the user may see"),
        parameters=PLAN_FILTERS,
        responses={200: PlanSerializer(many=True), **PROBLEM_400},
    ),
    retrieve=extend_schema(
        summary=_("A plan with its phases, weeks, days and items"),
        responses={200: PlanDetailSerializer, **PROBLEM_404},
    ),
    create=extend_schema(
        summary=_("Start a new plan template"),
        request=PlanWriteSerializer,
        responses={201: PlanDetailSerializer, **PROBLEM_400, **PROBLEM_403},
    ),
    update=extend_schema(
        request=PlanWriteSerializer, responses={200: PlanDetailSerializer, **WRITE_PROBLEMS}
    ),
    partial_update=extend_schema(
        request=PlanWriteSerializer, responses={200: PlanDetailSerializer, **WRITE_PROBLEMS}
    ),
    destroy=extend_schema(
        summary=_("Delete a template (a client's plan is archived instead)"),
        responses={204: None, **WRITE_PROBLEMS},
    ),
)
class PlanViewSet(
    TrainingViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    model = WorkoutPlan
    serializer_class = PlanSerializer

    def visible(self) -> QuerySet[WorkoutPlan]:
        viewer = self.request.user
        if self.action != "list":
            return selectors.with_structure(selectors.plan_list(viewer=viewer))
        params = self.request.query_params
        client = params.get("client", "").strip()
        if client and not client.isdigit():
            raise serializers.ValidationError({"client": [_("Give the id of a client.")]})
        return selectors.plan_list(
            viewer=viewer,
            is_template=_flag(self.request, "is_template"),
            client=int(client) if client else None,
            status=params.get("status", "").strip(),
            search=params.get("search", ""),
        ).order_by("-is_template", "name", "pk")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return PlanSerializer if self.action == "list" else PlanDetailSerializer

    def _represent(self, plan: WorkoutPlan, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.plan_get(viewer=self.request.user, pk=plan.pk)
        return Response(
            PlanDetailSerializer(fresh, context=self.get_serializer_context()).data, code
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = PlanWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = call_service(services.plan_create, actor=request.user, **serializer.validated_data)
        return self._represent(plan, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        serializer = PlanWriteSerializer(
            plan, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        plan = call_service(
            services.plan_update,
            actor=request.user,
            plan=plan,
            **serializer.validated_data,
        )
        return self._represent(plan)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        call_service(services.plan_delete, actor=request.user, plan=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=_("Copy a plan: a new, independent draft template"),
        request=PlanCopySerializer,
        responses={201: PlanDetailSerializer, **WRITE_PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def copy(self, request: Request, pk: str | None = None) -> Response:
        serializer = PlanCopySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = call_service(
            services.plan_copy,
            actor=request.user,
            plan=self.get_object(),
            name=serializer.validated_data.get("name", ""),
        )
        return self._represent(plan, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Assign a template to a client from a start date"),
        description=_(
            "Makes the client's own copy of the template and schedules one workout per plan "
            "day on start_date + 7 * (week - 1) + day offset. The start date may be at most "
            "7 days ago. Trainers assign to their own clients only."
        ),
        request=PlanAssignSerializer,
        responses={201: PlanDetailSerializer, **WRITE_PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        template = self.get_object()
        serializer = PlanAssignSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = call_service(
            services.plan_assign,
            template=template,
            client=data["client"],
            start_date=data["start_date"],
            by=request.user,
            name=data.get("name", ""),
        )
        return self._represent(plan, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Archive a plan (a client's: its workouts still to come are unscheduled)"),
        request=None,
        responses={200: PlanDetailSerializer, **WRITE_PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str | None = None) -> Response:
        plan = call_service(services.plan_archive, actor=request.user, plan=self.get_object())
        return self._represent(plan)


# --- Plan parts ------------------------------------------------------------------------------


class PlanPartViewSet(
    TrainingViewSet,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """Create, change, remove one part of a plan. The plan it belongs to must be one the user
    may see (else 404 or 400 "does not exist"); changing it needs the right to edit the plan."""

    plan_path: str

    def visible(self) -> QuerySet[Any]:
        plans = selectors.plan_list(viewer=self.request.user)
        return self.model.objects.filter(**{f"{self.plan_path}__in": plans}).select_related(
            self.plan_path
        )

    def add(self, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def change(self, instance: Model, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def remove(self, instance: Model) -> None:
        raise NotImplementedError

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.add(dict(serializer.validated_data))
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(
            instance, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        instance = self.change(instance, dict(serializer.validated_data))
        return Response(self.get_serializer(instance).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.remove(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _move(self, request: Request, service: Callable[..., Model], name: str) -> Response:
        """The `move` action: one place up or down, through `service` (its `name` argument is
        the part being moved)."""
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        moved = call_service(
            service,
            **{name: self.get_object()},
            direction=serializer.validated_data["direction"],
            **self._kw(),
        )
        return Response(self.get_serializer(moved).data)

    def _kw(self) -> dict[str, Any]:
        return {"actor": self.request.user}


def _part_schema(serializer: type[serializers.Serializer], noun: str) -> Any:
    return extend_schema_view(
        retrieve=extend_schema(responses={200: serializer, **PROBLEM_404}),
        create=extend_schema(
            summary=_("Add a %(noun)s to a plan") % {"noun": noun},
            responses={201: serializer, **WRITE_PROBLEMS},
        ),
        update=extend_schema(responses={200: serializer, **WRITE_PROBLEMS}),
        partial_update=extend_schema(responses={200: serializer, **WRITE_PROBLEMS}),
        destroy=extend_schema(responses={204: None, **WRITE_PROBLEMS}),
    )


@_part_schema(PhaseWriteSerializer, "phase")
class PlanPhaseViewSet(PlanPartViewSet):
    model = PlanPhase
    serializer_class = PhaseWriteSerializer
    plan_path = "plan"

    def add(self, data: dict[str, Any]) -> Model:
        return call_service(services.phase_add, **self._kw(), **data)

    def change(self, instance: Model, data: dict[str, Any]) -> Model:
        data.pop("plan", None)
        return call_service(services.phase_update, phase=instance, **self._kw(), **data)

    def remove(self, instance: Model) -> None:
        call_service(services.phase_remove, phase=instance, **self._kw())

    @extend_schema(
        summary=_("Move a phase one place up or down (its weeks are renumbered)"),
        request=MoveSerializer,
        responses={200: PhaseWriteSerializer, **WRITE_PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, services.phase_move, "phase")


@_part_schema(WeekWriteSerializer, "week")
class PlanWeekViewSet(PlanPartViewSet):
    model = PlanWeek
    serializer_class = WeekWriteSerializer
    plan_path = "plan"

    def add(self, data: dict[str, Any]) -> Model:
        return call_service(services.week_add, **self._kw(), **data)

    def change(self, instance: Model, data: dict[str, Any]) -> Model:
        data.pop("phase", None)
        data.pop("copy_from", None)
        return call_service(services.week_update, week=instance, **self._kw(), **data)

    def remove(self, instance: Model) -> None:
        call_service(services.week_remove, week=instance, **self._kw())


@_part_schema(DayWriteSerializer, "training day")
class PlanDayViewSet(PlanPartViewSet):
    model = PlanDay
    serializer_class = DayWriteSerializer
    plan_path = "week__plan"

    def visible(self) -> QuerySet[Any]:
        plans = selectors.plan_list(viewer=self.request.user)
        return PlanDay.objects.filter(week__plan__in=plans).select_related("week__plan")

    def add(self, data: dict[str, Any]) -> Model:
        return call_service(services.day_add, **self._kw(), **data)

    def change(self, instance: Model, data: dict[str, Any]) -> Model:
        data.pop("week", None)
        return call_service(services.day_update, day=instance, **self._kw(), **data)

    def remove(self, instance: Model) -> None:
        call_service(services.day_remove, day=instance, **self._kw())


@_part_schema(ItemWriteSerializer, "exercise")
class PlanItemViewSet(PlanPartViewSet):
    model = PlanItem
    serializer_class = ItemWriteSerializer
    plan_path = "day__week__plan"

    def visible(self) -> QuerySet[Any]:
        plans = selectors.plan_list(viewer=self.request.user)
        return PlanItem.objects.filter(day__week__plan__in=plans).select_related(
            "day__week__plan", "exercise"
        )

    def add(self, data: dict[str, Any]) -> Model:
        return call_service(services.item_add, **self._kw(), **data)

    def change(self, instance: Model, data: dict[str, Any]) -> Model:
        data.pop("day", None)
        return call_service(services.item_update, item=instance, **self._kw(), **data)

    def remove(self, instance: Model) -> None:
        call_service(services.item_remove, item=instance, **self._kw())

    @extend_schema(
        summary=_("Move an item one place up or down within its day"),
        request=MoveSerializer,
        responses={200: ItemWriteSerializer, **WRITE_PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        return self._move(request, services.item_move, "item")


# --- Scheduled workouts ----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Scheduled workouts (a client: their own)"),
        parameters=[ScheduledWorkoutQuerySerializer],
        responses={200: ScheduledWorkoutSerializer(many=True), **PROBLEM_400},
    ),
    retrieve=extend_schema(responses={200: ScheduledWorkoutSerializer, **PROBLEM_404}),
)
class ScheduledWorkoutViewSet(TrainingViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = ScheduledWorkout
    serializer_class = ScheduledWorkoutSerializer

    def visible(self) -> QuerySet[ScheduledWorkout]:
        if self.action != "list":
            return selectors.scheduled_workout_list(viewer=self.request.user)
        query = ScheduledWorkoutQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.scheduled_workout_list(viewer=self.request.user, **query.validated_data)
