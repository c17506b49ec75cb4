"""Workout logging endpoints. Thin: what a viewer may see comes from the selectors (a workout they
may not see is a 404), every write goes through a service. Clients log their own workouts,
trainers their current clients', owners and managers anyone's; front desk sees none."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import Role
from apps.accounts.roles import has_role
from apps.core.api.filters import StrictBooleanFilter
from apps.crm.api.filters import StableOrderingFilter
from apps.crm.api.views import (
    PROBLEM_400,
    PROBLEM_403,
    PROBLEM_404,
    WRITE_PROBLEMS,
    SelectorViewSetMixin,
)
from apps.crm.selectors import client_for_user
from apps.training.models import ItemKind
from apps.workouts import selectors, services
from apps.workouts.api.serializers import (
    CardioLogCreateSerializer,
    CardioLogSerializer,
    CardioLogUpdateSerializer,
    SetLogCreateSerializer,
    SetLogSerializer,
    SetLogUpdateSerializer,
    TrainingStatsQuerySerializer,
    TrainingStatsSerializer,
    WeeklyTargetSerializer,
    WorkoutCompleteSerializer,
    WorkoutLogCreateSerializer,
    WorkoutLogSerializer,
    WorkoutLogUpdateSerializer,
    training_stats_data,
)
from apps.workouts.models import CardioLog, SetLog, WorkoutLog


class WorkoutLogFilter(filters.FilterSet):
    client = filters.NumberFilter(field_name="client_id")
    performed_after = filters.DateFilter(field_name="performed_on", lookup_expr="gte")
    performed_before = filters.DateFilter(field_name="performed_on", lookup_expr="lte")
    completed = StrictBooleanFilter(field_name="completed_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = WorkoutLog
        fields = ("client", "performed_after", "performed_before", "completed")


class WorkoutChildFilter(filters.FilterSet):
    workout = filters.NumberFilter(field_name="log_id")
    exercise = filters.NumberFilter(field_name="exercise_id")


class SetLogFilter(WorkoutChildFilter):
    class Meta:
        model = SetLog
        fields = ("workout", "exercise")


class CardioLogFilter(WorkoutChildFilter):
    class Meta:
        model = CardioLog
        fields = ("workout", "exercise")


@extend_schema_view(
    list=extend_schema(summary=_("Workout logs the signed-in user may see, newest first")),
    retrieve=extend_schema(responses={200: WorkoutLogSerializer, **PROBLEM_404}),
    create=extend_schema(
        summary=_("Start a workout (of a scheduled workout, or free)"),
        description=_(
            "Starting a scheduled workout that already has a log, or resending a `client_uuid`, "
            "returns that log with 200 instead of 201."
        ),
        request=WorkoutLogCreateSerializer,
        responses={
            200: WorkoutLogSerializer,
            201: WorkoutLogSerializer,
            **PROBLEM_400,
            **PROBLEM_403,
        },
    ),
    update=extend_schema(
        request=WorkoutLogUpdateSerializer,
        responses={200: WorkoutLogSerializer, **WRITE_PROBLEMS},
    ),
    partial_update=extend_schema(
        summary=_("Change a workout's notes, effort or date"),
        request=WorkoutLogUpdateSerializer,
        responses={200: WorkoutLogSerializer, **WRITE_PROBLEMS},
    ),
    destroy=extend_schema(responses={204: None, **PROBLEM_403, **PROBLEM_404}),
)
class WorkoutSessionViewSet(SelectorViewSetMixin, viewsets.ModelViewSet):
    model = WorkoutLog
    serializer_class = WorkoutLogSerializer
    filter_backends = [filters.DjangoFilterBackend, StableOrderingFilter]
    filterset_class = WorkoutLogFilter
    ordering_fields = ("performed_on", "started_at")
    ordering = ("-performed_on", "-started_at")

    def visible(self) -> QuerySet[WorkoutLog]:
        return selectors.workout_log_detail_list(viewer=self.request.user)

    def _represent(self, log: WorkoutLog, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.visible().get(pk=log.pk)
        return Response(WorkoutLogSerializer(fresh).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = WorkoutLogCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        client = data.pop("client", None)
        if client is None:
            client = client_for_user(request.user) if has_role(request.user, Role.CLIENT) else None
            if client is None:
                raise ValidationError({"client": [_("This field is required.")]})
        log, created = services.workout_start(actor=request.user, client=client, **data)
        return self._represent(log, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        log = self.get_object()
        serializer = WorkoutLogUpdateSerializer(data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        log = services.workout_update(actor=request.user, log=log, **serializer.validated_data)
        return self._represent(log)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.workout_delete(actor=request.user, log=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=_("Complete a workout"),
        description=_(
            "Planned exercises with nothing logged are recorded as skipped and the scheduled "
            "workout is marked completed."
        ),
        request=WorkoutCompleteSerializer,
        responses={200: WorkoutLogSerializer, **WRITE_PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        log = self.get_object()
        serializer = WorkoutCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        log = services.workout_complete(actor=request.user, log=log, **serializer.validated_data)
        return self._represent(log)


class _WorkoutChildViewSet(
    SelectorViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    filter_backends = [filters.DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ("created_at",)
    ordering = ("log_id", "pk")


@extend_schema_view(
    list=extend_schema(summary=_("Logged sets the signed-in user may see")),
    retrieve=extend_schema(responses={200: SetLogSerializer, **PROBLEM_404}),
    create=extend_schema(
        summary=_("Log a set"),
        description=_(
            "The load is sent in `weight_unit` (default: the user's preferred unit) and stored "
            "in kg. Resending a `client_uuid` returns the first set with 200. `skipped` with a "
            "`plan_item` marks that planned exercise as skipped (200)."
        ),
        request=SetLogCreateSerializer,
        responses={200: SetLogSerializer, 201: SetLogSerializer, **PROBLEM_400, **PROBLEM_403},
    ),
    update=extend_schema(
        request=SetLogUpdateSerializer, responses={200: SetLogSerializer, **WRITE_PROBLEMS}
    ),
    partial_update=extend_schema(
        summary=_("Correct a logged set"),
        request=SetLogUpdateSerializer,
        responses={200: SetLogSerializer, **WRITE_PROBLEMS},
    ),
    destroy=extend_schema(responses={204: None, **PROBLEM_403, **PROBLEM_404}),
)
class SetLogViewSet(_WorkoutChildViewSet):
    model = SetLog
    serializer_class = SetLogSerializer
    filterset_class = SetLogFilter

    def visible(self) -> QuerySet[SetLog]:
        return selectors.set_log_list(viewer=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = SetLogCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        log = data.pop("workout")
        if data.get("skipped") and data.get("plan_item") is not None:
            # Skipping a planned exercise: one mark per plan item, however often it is sent.
            if data["plan_item"].kind == ItemKind.CARDIO:
                raise ValidationError({"plan_item": [_("This is a cardio item: use cardio-logs.")]})
            skipped = services.exercise_skip(
                actor=request.user, log=log, plan_item=data["plan_item"]
            )
            return Response(SetLogSerializer(skipped).data, status=status.HTTP_200_OK)
        set_log, created = services.set_log_create(actor=request.user, log=log, **data)
        return Response(
            SetLogSerializer(set_log).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        set_log = self.get_object()
        serializer = SetLogUpdateSerializer(data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        set_log = services.set_log_update(
            actor=request.user, set_log=set_log, **serializer.validated_data
        )
        return Response(SetLogSerializer(set_log).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.set_log_delete(actor=request.user, set_log=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary=_("Logged cardio the signed-in user may see")),
    retrieve=extend_schema(responses={200: CardioLogSerializer, **PROBLEM_404}),
    create=extend_schema(
        summary=_("Log cardio"),
        description=_("Resending a `client_uuid` returns the first entry with 200."),
        request=CardioLogCreateSerializer,
        responses={
            200: CardioLogSerializer,
            201: CardioLogSerializer,
            **PROBLEM_400,
            **PROBLEM_403,
        },
    ),
    update=extend_schema(
        request=CardioLogUpdateSerializer, responses={200: CardioLogSerializer, **WRITE_PROBLEMS}
    ),
    partial_update=extend_schema(
        request=CardioLogUpdateSerializer, responses={200: CardioLogSerializer, **WRITE_PROBLEMS}
    ),
    destroy=extend_schema(responses={204: None, **PROBLEM_403, **PROBLEM_404}),
)
class CardioLogViewSet(_WorkoutChildViewSet):
    model = CardioLog
    serializer_class = CardioLogSerializer
    filterset_class = CardioLogFilter

    def visible(self) -> QuerySet[CardioLog]:
        return selectors.cardio_log_list(viewer=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = CardioLogCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        cardio, created = services.cardio_log_create(
            actor=request.user, log=data.pop("workout"), **data
        )
        return Response(
            CardioLogSerializer(cardio).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        cardio = self.get_object()
        serializer = CardioLogUpdateSerializer(data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        cardio = services.cardio_log_update(
            actor=request.user, cardio=cardio, **serializer.validated_data
        )
        return Response(CardioLogSerializer(cardio).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.cardio_log_delete(actor=request.user, cardio=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrainingStatsApi(APIView):
    @extend_schema(
        summary=_("A client's adherence, streak, records and weekly volume"),
        parameters=[
            OpenApiParameter(
                "client", int, required=True, description=_("Id of a client you may see.")
            )
        ],
        responses={200: TrainingStatsSerializer, **PROBLEM_400},
    )
    def get(self, request: Request) -> Response:
        query = TrainingStatsQuerySerializer(
            data=request.query_params, context={"request": request}
        )
        query.is_valid(raise_exception=True)
        stats = selectors.client_training_stats(
            viewer=request.user, client=query.validated_data["client"]
        )
        return Response(TrainingStatsSerializer(training_stats_data(stats)).data)


class WeeklyTargetApi(APIView):
    """A client's weekly workout target: anyone who may see the client reads it; their trainers
    and managers set it."""

    @extend_schema(
        summary=_("A client's weekly workout target"),
        parameters=[
            OpenApiParameter(
                "client", int, required=True, description=_("Id of a client you may see.")
            )
        ],
        responses={200: WeeklyTargetSerializer, **PROBLEM_400},
    )
    def get(self, request: Request) -> Response:
        query = TrainingStatsQuerySerializer(
            data=request.query_params, context={"request": request}
        )
        query.is_valid(raise_exception=True)
        client = query.validated_data["client"]
        return Response(
            {"client": client.pk, "workouts_per_week": selectors.weekly_target_of(client)}
        )

    @extend_schema(
        summary=_("Set a client's weekly workout target (their trainers and managers)"),
        request=WeeklyTargetSerializer,
        responses={200: WeeklyTargetSerializer, **PROBLEM_400, **PROBLEM_403},
    )
    def put(self, request: Request) -> Response:
        serializer = WeeklyTargetSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        client = serializer.validated_data["client"]
        target = services.weekly_target_set(
            actor=request.user,
            client=client,
            workouts_per_week=serializer.validated_data["workouts_per_week"],
        )
        return Response({"client": client.pk, "workouts_per_week": target.workouts_per_week})
