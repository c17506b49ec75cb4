"""The HealthKit push API for a companion app (under /api/v1/wearables/apple-health/): batches
of samples read with anchored queries, and the UUIDs HealthKit reports deleted. Clients only,
each writing their own data; thin: validation and writes in services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsClient
from apps.core import dates
from apps.core.api.parsers import JSONParser
from apps.crm.api.serializers import ProblemSerializer
from apps.crm.selectors import client_for_user
from apps.wearables.models import HealthExport
from apps.wearables.providers.apple_health import parser, selectors, services

PROBLEM_400 = {(400, "application/problem+json"): ProblemSerializer}


class SampleSerializer(serializers.Serializer):
    """For the schema: the service checks every field (and names it in a 400)."""

    uuid = serializers.UUIDField(help_text=gettext_lazy("HealthKit's UUID of the sample."))
    type = serializers.ChoiceField(
        choices=sorted(parser.KNOWN_TYPES),
        help_text=gettext_lazy("HealthKit's type identifier."),
    )
    start = dates.DateTimeField(help_text=gettext_lazy("ISO 8601 with its offset."))
    end = dates.DateTimeField(help_text=gettext_lazy("ISO 8601 with its offset."))
    value = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        min_value=0,
        help_text=gettext_lazy("The quantity; for sleep, HealthKit's category value (0 to 5)."),
    )
    unit = serializers.CharField(
        allow_blank=True, help_text=gettext_lazy("HealthKit's unit string: count, km, kcal...")
    )
    source = serializers.CharField(max_length=64, allow_blank=True)
    time_zone = serializers.CharField(help_text=gettext_lazy("IANA zone where it was recorded."))


class SampleBatchSerializer(serializers.Serializer):
    samples = SampleSerializer(many=True, max_length=services.MAX_BATCH, required=False)
    deleted = serializers.ListField(
        child=serializers.UUIDField(), max_length=services.MAX_BATCH, required=False
    )


class SampleBatchResultSerializer(serializers.Serializer):
    stored = serializers.IntegerField()
    deleted = serializers.IntegerField()
    days = serializers.IntegerField(help_text=gettext_lazy("Day rows re-totalled."))


class HealthExportSerializer(serializers.ModelSerializer):
    class Meta:
        model = HealthExport
        fields = (
            "id",
            "file_name",
            "status",
            "size_bytes",
            "received_bytes",
            "parsed_bytes",
            "records_stored",
            "error",
            "created_at",
        )
        read_only_fields = fields


def _client(request: Request) -> Any:
    client = client_for_user(request.user)  # type: ignore[arg-type]
    if client is None:
        raise ValidationError({"non_field_errors": [gettext_lazy("No client record.")]})
    return client


class SampleBatchView(APIView):
    permission_classes = [IsClient]
    parser_classes = [JSONParser]

    @extend_schema(
        summary=gettext_lazy("Push HealthKit samples and deletions"),
        description=gettext_lazy(
            "Idempotent by UUID: a sample sent again replaces itself. Any invalid field refuses "
            "the whole batch (400, the field named as samples.<index>.<field>). At most 1000 "
            "samples and 1000 deletions a batch."
        ),
        request=SampleBatchSerializer,
        responses={200: SampleBatchResultSerializer, **PROBLEM_400},
    )
    def post(self, request: Request) -> Response:
        client = _client(request)
        data = request.data if isinstance(request.data, dict) else {}
        try:
            samples, deleted = services.health_samples_validate(
                samples=data.get("samples"), deleted=data.get("deleted")
            )
        except services.SamplesRejectedError as error:
            raise ValidationError(
                {field: [message] for field, message in error.errors.items()}
            ) from error
        result = services.health_samples_push(client=client, samples=samples, deleted=deleted)
        return Response(result)


@extend_schema(summary=gettext_lazy("The signed-in client's Apple Health export uploads"))
class HealthExportListView(generics.ListAPIView):
    permission_classes = [IsClient]
    serializer_class = HealthExportSerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[HealthExport]:
        if getattr(self, "swagger_fake_view", False):
            return HealthExport.objects.none()
        return selectors.health_exports_for_client(client=_client(self.request))
