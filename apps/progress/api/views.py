"""Progress endpoints. Thin: what a viewer may see comes from apps.progress.selectors (anything
else is a 404), writes go through apps.progress.services. Staff name the client; a client
always works on themselves."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import Role, User
from apps.accounts.permissions import HasRole
from apps.accounts.roles import HEALTH_DATA_ROLES, has_role
from apps.core.api.parsers import JSONParser
from apps.crm.api.serializers import ProblemSerializer
from apps.crm.models import Client
from apps.crm.selectors import client_for_user
from apps.progress import selectors, services
from apps.progress.api.serializers import (
    MeasurementQuerySerializer,
    MeasurementSerializer,
    MeasurementWriteSerializer,
    PhotoQuerySerializer,
    PhotoSerializer,
    PhotoUploadSerializer,
    public_field_errors,
)
from apps.progress.models import BodyMeasurement, ProgressPhoto
from apps.progress.views import photo_response

PROBLEM = "application/problem+json"
PROBLEM_400 = {(400, PROBLEM): ProblemSerializer}
PROBLEM_403 = {(403, PROBLEM): ProblemSerializer}
PROBLEM_404 = {(404, PROBLEM): ProblemSerializer}
WRITE_PROBLEMS = {**PROBLEM_400, **PROBLEM_403, **PROBLEM_404}


class FollowsProgress(HasRole):
    """Owners, managers, trainers (their clients) and clients (themselves); not front desk."""

    roles = frozenset({*HEALTH_DATA_ROLES, Role.CLIENT})


class ImageRenderer(BaseRenderer):
    """Lets a request that accepts only images reach the photo file action; errors still go
    out as JSON text."""

    media_type = "image/*"
    format = "image"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return data if isinstance(data, bytes) else json.dumps(data).encode()


def _client_for(request: Request, chosen: Client | None) -> Client:
    """The client a write is about: a client user is always themselves; staff must name one."""
    user: User = request.user  # type: ignore[assignment]
    if has_role(user, Role.CLIENT):
        own = client_for_user(user)
        if own is None or (chosen is not None and chosen.pk != own.pk):
            raise serializers.ValidationError(
                {"client": [_("You can only record your own progress.")]}
            )
        return own
    if chosen is None:
        raise serializers.ValidationError({"client": [_("Name the client.")]})
    return chosen


def _service_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(public_field_errors(exc.message_dict))
    return serializers.ValidationError({"non_field_errors": exc.messages})


MEASUREMENT_FILTERS = [
    OpenApiParameter("client", OpenApiTypes.INT, description=_("Only this client's.")),
    OpenApiParameter(
        "measured_from", OpenApiTypes.DATE, description=_("From this day (inclusive).")
    ),
    OpenApiParameter("measured_to", OpenApiTypes.DATE, description=_("To this day (inclusive).")),
]


@extend_schema_view(
    list=extend_schema(
        summary=_("Body measurements the signed-in user may see, newest first"),
        description=_(
            "Weight and circumferences are in the requesting user's units (`units` names them; "
            "change them with PATCH /api/v1/me/ `unit_system`)."
        ),
        parameters=MEASUREMENT_FILTERS,
        responses={200: MeasurementSerializer(many=True), **PROBLEM_400, **PROBLEM_403},
    ),
    retrieve=extend_schema(responses={200: MeasurementSerializer, **PROBLEM_404}),
    create=extend_schema(
        summary=_("Record a body measurement"),
        description=_("Values in the requesting user's units; at least one value."),
        request=MeasurementWriteSerializer,
        responses={201: MeasurementSerializer, **WRITE_PROBLEMS},
    ),
    update=extend_schema(
        request=MeasurementWriteSerializer,
        responses={200: MeasurementSerializer, **WRITE_PROBLEMS},
    ),
    partial_update=extend_schema(
        request=MeasurementWriteSerializer,
        responses={200: MeasurementSerializer, **WRITE_PROBLEMS},
    ),
    destroy=extend_schema(responses={204: None, **PROBLEM_403, **PROBLEM_404}),
)
class MeasurementViewSet(viewsets.ModelViewSet):
    serializer_class = MeasurementSerializer
    permission_classes = [FollowsProgress]
    filter_backends: list = []
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self) -> QuerySet[BodyMeasurement]:
        if getattr(self, "swagger_fake_view", False):
            return BodyMeasurement.objects.none()
        viewer: User = self.request.user  # type: ignore[assignment]
        if self.action != "list":
            return selectors.measurement_list(viewer=viewer).select_related("client")
        query = MeasurementQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        measurements = selectors.measurement_list(
            viewer=viewer,
            measured_from=query.validated_data.get("measured_from"),
            measured_to=query.validated_data.get("measured_to"),
        )
        if "client" in query.validated_data:
            measurements = measurements.filter(client_id=query.validated_data["client"])
        return measurements

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        write = MeasurementWriteSerializer(data=request.data, context=self.get_serializer_context())
        write.is_valid(raise_exception=True)
        values = dict(write.validated_data)
        client = _client_for(request, values.pop("client", None))
        try:
            measurement = services.measurement_create(
                actor=request.user,  # type: ignore[arg-type]
                client=client,
                **values,
            )
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc
        return Response(
            MeasurementSerializer(measurement, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        measurement = self.get_object()
        write = MeasurementWriteSerializer(
            data=request.data,
            partial=kwargs.get("partial", False),
            context=self.get_serializer_context(),
        )
        write.is_valid(raise_exception=True)
        values = dict(write.validated_data)
        chosen = values.pop("client", None)
        if chosen is not None and chosen.pk != measurement.client_id:
            raise serializers.ValidationError(
                {"client": [_("A measurement stays with its client.")]}
            )
        try:
            measurement = services.measurement_update(
                actor=request.user,  # type: ignore[arg-type]
                measurement=measurement,
                **values,
            )
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc
        return Response(
            MeasurementSerializer(measurement, context=self.get_serializer_context()).data
        )

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.measurement_delete(
            actor=request.user,  # type: ignore[arg-type]
            measurement=self.get_object(),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary=_("Progress photos the signed-in user may see"),
        parameters=[
            OpenApiParameter("client", OpenApiTypes.INT, description=_("Only this client's.")),
            OpenApiParameter("pose", OpenApiTypes.STR, enum=["front", "side", "back"]),
        ],
        responses={200: PhotoSerializer(many=True), **PROBLEM_400, **PROBLEM_403},
    ),
    retrieve=extend_schema(responses={200: PhotoSerializer, **PROBLEM_404}),
    create=extend_schema(
        summary=_("Upload a progress photo (multipart)"),
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={201: PhotoSerializer, **WRITE_PROBLEMS},
    ),
    destroy=extend_schema(responses={204: None, **PROBLEM_403, **PROBLEM_404}),
)
class PhotoViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = PhotoSerializer
    permission_classes = [FollowsProgress]
    filter_backends: list = []
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[ProgressPhoto]:
        if getattr(self, "swagger_fake_view", False):
            return ProgressPhoto.objects.none()
        viewer: User = self.request.user  # type: ignore[assignment]
        if self.action != "list":
            return selectors.photo_list(viewer=viewer).select_related("client")
        query = PhotoQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        photos = selectors.photo_list(viewer=viewer, pose=query.validated_data.get("pose", ""))
        if "client" in query.validated_data:
            photos = photos.filter(client_id=query.validated_data["client"])
        return photos

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = PhotoUploadSerializer(data=request.data, context=self.get_serializer_context())
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        client = _client_for(request, data.get("client"))
        image = data["image"]
        try:
            photo = services.photo_upload(
                actor=request.user,  # type: ignore[arg-type]
                client=client,
                pose=data["pose"],
                taken_on=data.get("taken_on"),
                image=image,
                size=image.size,
            )
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc
        return Response(
            PhotoSerializer(photo, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.photo_delete(
            actor=request.user,  # type: ignore[arg-type]
            photo=self.get_object(),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=_("The photo file (or its thumbnail)"),
        parameters=[OpenApiParameter("size", OpenApiTypes.STR, enum=["full", "thumb"])],
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY, **PROBLEM_404},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, ImageRenderer])
    def file(self, request: Request, pk: str | None = None) -> FileResponse:
        photo = self.get_object()
        return photo_response(photo, thumbnail=request.query_params.get("size") == "thumb")
