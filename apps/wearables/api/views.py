"""The wearables API for the mobile apps: a client's connections (list, sync now, disconnect),
their daily data with one source per day and kind (apps.wearables.selectors' precedence) and
their outside workouts. A client reads their own; staff name the client (`?client=<id>`) and
reach only clients whose health data they may see (managers, owners, the client's current
trainers); anyone else's client is a 404, never a hint that it exists."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import Role
from apps.accounts.roles import has_role
from apps.core.api.errors import ConflictError
from apps.crm.api.serializers import ProblemSerializer
from apps.crm.models import Client
from apps.crm.selectors import can_see_health_data, client_for_user
from apps.messaging.api.views import MessageCursorPagination
from apps.tenants.selectors import gym_today
from apps.wearables import selectors, services
from apps.wearables.api.serializers import (
    ConnectionSerializer,
    DaySerializer,
    SyncQueuedSerializer,
    WorkoutSerializer,
)
from apps.wearables.models import Connection, DataKind, ExternalWorkout
from apps.wearables.services.sync import SyncRefusedError, can_sync, connection_sync_request

PROBLEM = "application/problem+json"
PROBLEMS = {(status, PROBLEM): ProblemSerializer for status in (400, 404)}
# Daily kinds (one row per day); outside workouts have their own endpoint.
DAILY_KINDS = [DataKind.ACTIVITY, DataKind.HEART_RATE, DataKind.SLEEP, DataKind.NUTRITION]
DEFAULT_DAYS = 30
MAX_DAYS = 366
# The figures of each daily kind, as `values`.
DAY_VALUES: dict[str, tuple[str, ...]] = {
    DataKind.ACTIVITY: ("steps", "distance_m", "active_minutes", "calories_kcal"),
    DataKind.HEART_RATE: (
        "resting_bpm",
        "zone_1_minutes",
        "zone_2_minutes",
        "zone_3_minutes",
        "zone_4_minutes",
        "zone_5_minutes",
    ),
    DataKind.SLEEP: (
        "start_at",
        "end_at",
        "asleep_minutes",
        "deep_minutes",
        "light_minutes",
        "rem_minutes",
        "awake_minutes",
    ),
    DataKind.NUTRITION: (
        "calories_kcal",
        "protein_g",
        "carbohydrate_g",
        "fat_g",
        "water_ml",
        "meals",
    ),
}

CLIENT = OpenApiParameter(
    "client",
    OpenApiTypes.INT,
    description=gettext_lazy(
        "The client (staff: required). A client reads their own and may leave it out."
    ),
)
START = OpenApiParameter(
    "start",
    OpenApiTypes.DATE,
    description=gettext_lazy("First day (default: 29 days before `end`)."),
)
END = OpenApiParameter(
    "end", OpenApiTypes.DATE, description=gettext_lazy("Last day (default: today).")
)
KIND = OpenApiParameter(
    "kind",
    OpenApiTypes.STR,
    enum=DAILY_KINDS,
    required=True,
    description=gettext_lazy("Which daily data."),
)


def _whole_number(raw: str, field: str) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise ValidationError({field: [_("Must be a whole number.")]})
    return int(raw)


def subject_client(request: Request) -> Client:
    """The client a request is about: the viewer themselves if they are a client, else the one
    `?client=` names, if the viewer may see their health data (404 otherwise)."""
    viewer = request.user
    raw = request.query_params.get("client")
    if has_role(viewer, Role.CLIENT):  # type: ignore[arg-type]
        own = client_for_user(viewer)  # type: ignore[arg-type]
        if own is None or (raw not in (None, "") and raw != str(own.pk)):
            raise Http404
        return own
    if not raw:
        raise ValidationError({"client": [_("Name the client: ?client=<id>.")]})
    client = Client.objects.filter(pk=_whole_number(raw, "client")).first()
    if client is None or not can_see_health_data(viewer=viewer, client=client):  # type: ignore[arg-type]
        raise Http404
    return client


def _date(request: Request, name: str, default: date) -> date:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise ValidationError({name: [_("Must be a date (YYYY-MM-DD).")]}) from error


def date_range(request: Request) -> tuple[date, date]:
    end = _date(request, "end", gym_today())
    start = _date(request, "start", end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise ValidationError({"start": [_("Must not be after end.")]})
    if (end - start).days >= MAX_DAYS:
        raise ValidationError({"start": [_("At most %(days)d days at once.") % {"days": MAX_DAYS}]})
    return start, end


def _with_can_sync(connections: list[Connection]) -> list[Connection]:
    for connection in connections:
        connection.can_sync = connection.is_active and can_sync(connection.provider)  # type: ignore[attr-defined]
    return connections


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("A client's connected apps and devices, with their sync state"),
        parameters=[CLIENT],
        responses={200: ConnectionSerializer(many=True), **PROBLEMS},
    ),
)
class ConnectionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ConnectionSerializer
    pagination_class = None  # one per provider: a handful at most
    filter_backends: list = []
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[Connection]:
        if getattr(self, "swagger_fake_view", False):
            return Connection.objects.none()
        return selectors.connections_for_client(client_id=subject_client(self.request).pk)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        connections = _with_can_sync(list(self.get_queryset()))
        return Response(ConnectionSerializer(connections, many=True).data)

    def _connection(self, request: Request, pk: str | None) -> Connection:
        connection = Connection.objects.select_related("client").filter(pk=int(pk or 0)).first()
        if connection is None or not can_see_health_data(
            viewer=request.user,  # type: ignore[arg-type]
            client=connection.client,
        ):
            raise Http404
        return connection

    @extend_schema(
        summary=gettext_lazy("Sync now: queue a pull of what is new from the provider"),
        description=gettext_lazy(
            "409 when the connection cannot sync (disconnected, or an upload such as Apple "
            "Health); 429 when a sync was asked for a few minutes ago."
        ),
        request=None,
        responses={
            202: SyncQueuedSerializer,
            **{(status, PROBLEM): ProblemSerializer for status in (404, 409, 429)},
        },
    )
    @action(detail=True, methods=["post"])
    def sync(self, request: Request, pk: str | None = None) -> Response:
        connection = self._connection(request, pk)
        try:
            connection_sync_request(connection=connection)
        except SyncRefusedError as refused:
            if refused.too_soon:
                raise Throttled(
                    wait=services.sync.SYNC_NOW_COOLDOWN_SECONDS, detail=str(refused)
                ) from refused
            raise ConflictError(str(refused), {"non_field_errors": [str(refused)]}) from refused
        return Response({"queued": True}, status=202)

    @extend_schema(
        summary=gettext_lazy("Disconnect: revoke access at the provider and delete the tokens"),
        description=gettext_lazy("What was already stored stays; the connection is answered."),
        request=None,
        responses={200: ConnectionSerializer, (404, PROBLEM): ProblemSerializer},
    )
    @action(detail=True, methods=["post"])
    def disconnect(self, request: Request, pk: str | None = None) -> Response:
        connection = self._connection(request, pk)
        connection = services.connection_disconnect(connection=connection, actor=request.user)
        return Response(ConnectionSerializer(_with_can_sync([connection])[0]).data)


class DayList(APIView):
    """One row per day for a daily kind: the winning source's, so totals never count twice."""

    @extend_schema(
        operation_id="wearables_days_list",
        summary=gettext_lazy("A client's daily data of one kind, one source per day"),
        description=gettext_lazy(
            "Days with nothing recorded are left out. At most 366 days at once."
        ),
        parameters=[KIND, START, END, CLIENT],
        responses={200: DaySerializer(many=True), **PROBLEMS},
    )
    def get(self, request: Request) -> Response:
        kind = request.query_params.get("kind", "")
        if kind not in DAILY_KINDS:
            raise ValidationError(
                {"kind": [_("Must be one of: %(kinds)s.") % {"kinds": ", ".join(DAILY_KINDS)}]}
            )
        start, end = date_range(request)
        client = subject_client(request)
        rows = selectors.daily_rows(client_id=client.pk, kind=kind, start=start, end=end)
        data = [
            {
                "date": row.date,
                "provider": row.provider,
                "device": row.device,
                "time_zone": row.time_zone,
                "values": {name: getattr(row, name) for name in DAY_VALUES[kind]},
            }
            for row in rows
        ]
        return Response(DaySerializer(data, many=True).data)


class WorkoutCursorPagination(MessageCursorPagination):
    """Latest start first; a page stays stable however many workouts arrive meanwhile."""

    ordering = ("-start_at", "-id")
    page_size = 30


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("A client's outside workouts, latest first"),
        parameters=[START, END, CLIENT],
        responses={200: WorkoutSerializer(many=True), **PROBLEMS},
    ),
)
class WorkoutViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = WorkoutSerializer
    pagination_class = WorkoutCursorPagination
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[ExternalWorkout]:
        if getattr(self, "swagger_fake_view", False):
            return ExternalWorkout.objects.none()
        start, end = date_range(self.request)
        client = subject_client(self.request)
        return selectors.workouts_for_client(client_id=client.pk, start=start, end=end)
