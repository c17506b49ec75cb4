"""Group-class endpoints: class types, the timetable with spots left, and book/cancel actions.
Thin: every write goes through apps.scheduling.classes.services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.crm.models import Client
from apps.scheduling.api.class_serializers import (
    ClassBookingSerializer,
    ClassBookSerializer,
    ClassCancelSerializer,
    ClassTypeSerializer,
    OccurrenceQuerySerializer,
    OccurrenceSerializer,
)
from apps.scheduling.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from apps.scheduling.api.policy_serializers import CheckInSerializer
from apps.scheduling.checkin import selectors
from apps.scheduling.classes import selectors as class_selectors
from apps.scheduling.classes import services as class_services
from apps.scheduling.models import ClassOccurrence, ClassType


def _client_for(request: Request, client: Client | None) -> Client:
    """The named client, or the requesting client's own profile."""
    if client is not None:
        return client
    own = Client.objects.filter(user=request.user).first()
    if own is None:
        raise ValidationError({"client": [_("This field is required.")]})
    return own


class ClassTypeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ClassTypeSerializer

    def get_queryset(self) -> QuerySet[ClassType]:
        return class_selectors.class_type_list()


class OccurrenceViewSet(viewsets.ReadOnlyModelViewSet):
    """GET ?from=&to= (days in the gym's time zone, both included)."""

    serializer_class = OccurrenceSerializer

    def get_queryset(self) -> QuerySet[ClassOccurrence]:
        if getattr(self, "swagger_fake_view", False):
            return ClassOccurrence.objects.none()
        if self.action != "list":
            return class_selectors.occurrence_list()
        query = OccurrenceQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return class_selectors.occurrence_list(**query.validated_data)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=ClassBookSerializer,
        responses={201: ClassBookingSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def book(self, request: Request, pk: str | None = None) -> Response:
        occurrence = self.get_object()

        def handler() -> Response:
            serializer = ClassBookSerializer(data=request.data, context={"request": request})
            serializer.is_valid(raise_exception=True)
            client = _client_for(request, serializer.validated_data.get("client"))
            booking = class_services.class_book(
                actor=request.user,
                occurrence=occurrence,
                client=client,
                override_membership=serializer.validated_data["override_membership"],
            )
            return Response(ClassBookingSerializer(booking).data, status=status.HTTP_201_CREATED)

        return idempotent(request, handler)

    @extend_schema(request=ClassCancelSerializer, responses={200: ClassBookingSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        occurrence = self.get_object()
        serializer = ClassCancelSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        client = _client_for(request, serializer.validated_data.get("client"))
        booking = class_selectors.active_booking(occurrence=occurrence, client=client)
        if booking is None:
            raise NotFound(_("No booking for this client in this class."))
        booking = class_services.class_cancel(
            actor=request.user,
            booking=booking,
            waive_late=serializer.validated_data["waive_late"],
        )
        return Response(ClassBookingSerializer(booking).data)

    @extend_schema(request=CheckInSerializer, responses={200: ClassBookingSerializer})
    @action(detail=True, methods=["post"])
    def check_in(self, request: Request, pk: str | None = None) -> Response:
        """The named client arrived for this class: their booking becomes `attended` with
        `checked_in_at`. Checking in again answers the same and records nothing new."""
        occurrence = self.get_object()
        serializer = CheckInSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        booking = (
            selectors.checkin_class_bookings(viewer=request.user)
            .filter(occurrence=occurrence, client_id=serializer.validated_data["client"])
            .first()
        )
        if booking is None:
            raise NotFound(_("No booking for this client in this class."))
        booking = class_services.class_check_in(actor=request.user, booking=booking)
        return Response(ClassBookingSerializer(booking).data)
