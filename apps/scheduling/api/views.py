"""Scheduling endpoints. Thin: what a viewer may see comes from the selectors (an appointment
they may not see is a 404), every write goes through a service, a double booking is a 409."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.scheduling.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from apps.scheduling.api.serializers import (
    AppointmentBookSerializer,
    AppointmentCancelSerializer,
    AppointmentSerializer,
    FreeSlotSerializer,
    FreeSlotsQuerySerializer,
)
from apps.scheduling.appointments import selectors, services
from apps.scheduling.models import Appointment


class AppointmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AppointmentSerializer
    ordering = ("starts_at", "pk")

    def get_queryset(self) -> QuerySet[Appointment]:
        if getattr(self, "swagger_fake_view", False):
            return Appointment.objects.none()
        return selectors.appointment_list(viewer=self.request.user).order_by("starts_at", "pk")

    @extend_schema(
        request=AppointmentBookSerializer,
        responses={201: AppointmentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return idempotent(request, lambda: self._book(request))

    def _book(self, request: Request) -> Response:
        serializer = AppointmentBookSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        appointment = services.appointment_book(actor=request.user, **serializer.validated_data)
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AppointmentCancelSerializer, responses={200: AppointmentSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        appointment = self.get_object()
        serializer = AppointmentCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment = services.appointment_cancel(
            actor=request.user,
            appointment=appointment,
            **serializer.validated_data,
        )
        return Response(AppointmentSerializer(appointment).data)

    @extend_schema(request=None, responses={200: AppointmentSerializer})
    @action(detail=True, methods=["post"])
    def check_in(self, request: Request, pk: str | None = None) -> Response:
        """The client arrived: the session is completed, with `checked_in_at`. Checking in
        again answers the same and records nothing new."""
        appointment = services.appointment_check_in(
            actor=request.user, appointment=self.get_object()
        )
        return Response(AppointmentSerializer(appointment).data)


class FreeSlotsView(APIView):
    """GET ?trainer=&from=&to= (dates in the gym's time zone, both included)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("trainer", OpenApiTypes.INT, required=True),
            OpenApiParameter("from", OpenApiTypes.DATE, required=True),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True),
            OpenApiParameter("slot_minutes", OpenApiTypes.INT),
        ],
        responses={200: FreeSlotSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        query = FreeSlotsQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        params = query.validated_data
        length = timedelta(minutes=params["slot_minutes"])
        starts = selectors.free_slots(
            trainer=params["trainer"],
            date_from=params["date_from"],
            date_to=params["date_to"],
            slot_minutes=params["slot_minutes"],
        )
        slots = [{"starts_at": start, "ends_at": start + length} for start in starts]
        return Response(FreeSlotSerializer(slots, many=True).data)
