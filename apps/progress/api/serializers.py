"""Shapes of the progress API. Values are read and written in the requesting user's units
(User.unit_system) and every measurement names its units; what is stored is metric."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import UnitSystem
from apps.core import dates
from apps.crm.models import Client
from apps.progress import selectors
from apps.progress.models import (
    BODY_FAT_RANGE,
    CONVERTIBLE_FIELDS,
    DIASTOLIC_RANGE,
    HEART_RATE_RANGE,
    SYSTOLIC_RANGE,
    BodyMeasurement,
    Pose,
    ProgressPhoto,
)
from apps.progress.units import Quantity, to_display, to_metric, units_of


def unit_system_of(serializer: serializers.Field) -> str:
    request = serializer.context.get("request")
    return getattr(getattr(request, "user", None), "unit_system", UnitSystem.METRIC)


@extend_schema_field(OpenApiTypes.INT)
class VisibleClientField(serializers.PrimaryKeyRelatedField):
    """A client id among those the requesting user may follow: any other id "does not exist"."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        if request is None:
            return Client.objects.none()
        return selectors.progress_client_list(viewer=request.user).prefetch_related(None)


@extend_schema_field({"type": "number", "format": "double", "nullable": True})
class ConvertedValueField(serializers.Field):
    """A stored metric value shown in the requesting user's units (see `units`)."""

    def __init__(self, *, quantity: Quantity, **kwargs: Any) -> None:
        self.quantity = quantity
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> float | None:
        shown = to_display(value, self.quantity, unit_system_of(self))
        return float(shown) if shown is not None else None


class UnitsSerializer(serializers.Serializer):
    mass = serializers.CharField(help_text=_("Weight: kg or lb."))
    length = serializers.CharField(help_text=_("Circumferences: cm or in."))


class MeasurementSerializer(serializers.ModelSerializer):
    """A measurement as the requesting user reads it."""

    weight = ConvertedValueField(quantity=Quantity.MASS, source="weight_kg")
    neck = ConvertedValueField(quantity=Quantity.LENGTH, source="neck_cm")
    chest = ConvertedValueField(quantity=Quantity.LENGTH, source="chest_cm")
    waist = ConvertedValueField(quantity=Quantity.LENGTH, source="waist_cm")
    hips = ConvertedValueField(quantity=Quantity.LENGTH, source="hips_cm")
    arm = ConvertedValueField(quantity=Quantity.LENGTH, source="arm_cm")
    thigh = ConvertedValueField(quantity=Quantity.LENGTH, source="thigh_cm")
    calf = ConvertedValueField(quantity=Quantity.LENGTH, source="calf_cm")
    body_fat_percent = serializers.DecimalField(
        max_digits=4, decimal_places=1, coerce_to_string=False, allow_null=True, read_only=True
    )
    units = serializers.SerializerMethodField(
        help_text=_("The units of weight (mass) and circumferences (length) in this response.")
    )
    client = serializers.IntegerField(source="client_id", read_only=True)
    recorded_by = serializers.IntegerField(source="recorded_by_id", read_only=True)

    class Meta:
        model = BodyMeasurement
        fields = (
            "id",
            "client",
            "measured_at",
            "weight",
            "body_fat_percent",
            "neck",
            "chest",
            "waist",
            "hips",
            "arm",
            "thigh",
            "calf",
            "resting_heart_rate",
            "blood_pressure_systolic",
            "blood_pressure_diastolic",
            "notes",
            "units",
            "recorded_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(UnitsSerializer)
    def get_units(self, measurement: BodyMeasurement) -> dict[str, str]:
        return units_of(unit_system_of(self))


def _value_field(max_digits: int = 7) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=max_digits,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        coerce_to_string=False,
    )


def _int_field(bounds: tuple[int, int]) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=bounds[0], max_value=bounds[1], required=False, allow_null=True
    )


class MeasurementWriteSerializer(serializers.Serializer):
    """A measurement in the requesting user's units; `validated_data` is metric, with the
    stored field names (weight -> weight_kg...). Ranges are checked on the metric values."""

    client = VisibleClientField(
        required=False,
        help_text=_("Staff: the client measured (required). Clients: leave out (themselves)."),
    )
    measured_at = dates.DateTimeField(required=False)
    weight = _value_field()
    body_fat_percent = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        min_value=BODY_FAT_RANGE[0],
        max_value=BODY_FAT_RANGE[1],
        required=False,
        allow_null=True,
        coerce_to_string=False,
    )
    neck = _value_field()
    chest = _value_field()
    waist = _value_field()
    hips = _value_field()
    arm = _value_field()
    thigh = _value_field()
    calf = _value_field()
    resting_heart_rate = _int_field(HEART_RATE_RANGE)
    blood_pressure_systolic = _int_field(SYSTOLIC_RANGE)
    blood_pressure_diastolic = _int_field(DIASTOLIC_RANGE)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unit_system = unit_system_of(self)
        for stored, (public, quantity) in CONVERTIBLE_FIELDS.items():
            if public in attrs:
                attrs[stored] = to_metric(attrs.pop(public), quantity, unit_system)
        return attrs


_PUBLIC_NAMES = {stored: public for stored, (public, _quantity) in CONVERTIBLE_FIELDS.items()}


def public_field_errors(errors: dict[str, Any]) -> dict[str, Any]:
    """A service's errors name stored fields (weight_kg); the API's names are unit-free."""
    return {_PUBLIC_NAMES.get(field, field): messages for field, messages in errors.items()}


class PhotoSerializer(serializers.ModelSerializer):
    client = serializers.IntegerField(source="client_id", read_only=True)
    uploaded_by = serializers.IntegerField(source="uploaded_by_id", read_only=True)
    file_url = serializers.SerializerMethodField(
        help_text=_("The photo, for the client, their trainers and managers only.")
    )
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = ProgressPhoto
        fields = (
            "id",
            "client",
            "pose",
            "taken_on",
            "width",
            "height",
            "size_bytes",
            "content_type",
            "file_url",
            "thumbnail_url",
            "uploaded_by",
            "created_at",
        )
        read_only_fields = fields

    def _url(self, photo: ProgressPhoto) -> str:
        path = reverse("progress-photo-file", kwargs={"pk": photo.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(OpenApiTypes.URI)
    def get_file_url(self, photo: ProgressPhoto) -> str:
        return self._url(photo)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, photo: ProgressPhoto) -> str:
        return f"{self._url(photo)}?size=thumb"


class PhotoUploadSerializer(serializers.Serializer):
    client = VisibleClientField(
        required=False,
        help_text=_("Staff: whose photo (required). Clients: leave out (themselves)."),
    )
    image = serializers.FileField(
        help_text=_("JPEG, PNG, WebP or HEIC; checked by content. EXIF (GPS too) is removed.")
    )
    pose = serializers.ChoiceField(choices=Pose.choices)
    taken_on = dates.DateField(required=False)


class MeasurementQuerySerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1)
    measured_from = dates.DateField(required=False)
    measured_to = dates.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first, last = attrs.get("measured_from"), attrs.get("measured_to")
        if first and last and last < first:
            raise serializers.ValidationError(
                {"measured_to": [_("The end of the range is before its start.")]}
            )
        return attrs


class PhotoQuerySerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1)
    pose = serializers.ChoiceField(choices=Pose.choices, required=False)
