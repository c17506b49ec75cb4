"""Shapes of the CRM API. Input serializers check the shape of a request only (types, choices,
lengths); the rules (who may set what, duplicates, assignments) are the services'. Output
serializers read what the selectors prefetched and never query per row."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Manager, Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import User
from apps.core import dates
from apps.crm import selectors
from apps.crm.models import (
    HEX_COLOUR,
    Assignment,
    Certification,
    Client,
    ClientStatus,
    Lead,
    LeadStatus,
    Note,
    NoteKind,
    Trainer,
)
from apps.crm.parq import PARQ_QUESTIONS
from apps.crm.services import (
    CLIENT_HEALTH_FIELDS,
    CLIENT_PROFILE_FIELDS,
    TRAINER_FIELDS,
)

# --- Shared ---------------------------------------------------------------------------------

PARQ_SCHEMA = {
    "type": "object",
    "description": _(
        "PAR-Q answers: question key to true (yes) or false (no); unanswered questions are left "
        "out. Unknown keys or other values are refused."
    ),
    "properties": {
        key: {"type": "boolean", "description": question} for key, question in PARQ_QUESTIONS
    },
    "additionalProperties": False,
}


@extend_schema_field(PARQ_SCHEMA)
class ParqAnswersField(serializers.JSONField):
    """A client's PAR-Q answers; apps.crm.parq.parq_answers_clean checks the keys and values
    (in the service, so every way in applies the same rule)."""


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, as apps.core.api.errors renders every error."""

    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Messages by field name; `non_field_errors` for the request as a whole."),
    )

    class Meta:
        ref_name = "Problem"


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key looked up among what the requesting user may see (a selector), so an id
    they may not see is "does not exist", exactly like an id that does not exist."""

    def __init__(self, *, selector: Callable[..., QuerySet[Any]], **kwargs: Any) -> None:
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return self.selector(viewer=self.context["request"].user)


def _viewer(serializer: serializers.Serializer) -> User:
    return serializer.context["request"].user


def _check_date_order(
    attrs: dict[str, Any],
    *,
    start: str,
    end: str,
    instance: Model | None,
    message: str,
) -> None:
    """`end` on or after `start`, reading a field missing from a partial update from the
    stored object, so the error names the field the request sent (the database constraint
    would only say the row is invalid)."""
    first = attrs.get(start, getattr(instance, start, None))
    last = attrs.get(end, getattr(instance, end, None))
    if first and last and last < first:
        field = end if end in attrs or start not in attrs else start
        raise serializers.ValidationError({field: [message]})


# --- Trainers -------------------------------------------------------------------------------


class CertificationSerializer(dates.ModelSerializer):
    class Meta:
        model = Certification
        fields = ("id", "name", "issuer", "issued_on", "expires_on")
        read_only_fields = ("id",)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _check_date_order(
            attrs,
            start="issued_on",
            end="expires_on",
            instance=self.instance,
            message=_("A certification cannot expire before it was issued."),
        )
        return attrs


class TrainerSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
    name = serializers.CharField(read_only=True)
    certifications = CertificationSerializer(many=True, read_only=True)

    class Meta:
        model = Trainer
        fields = (
            "id",
            "user",
            "email",
            "first_name",
            "last_name",
            "name",
            *TRAINER_FIELDS,
            "certifications",
        )
        read_only_fields = fields


class TrainerUpdateSerializer(serializers.ModelSerializer):
    calendar_colour = serializers.RegexField(
        HEX_COLOUR.regex,
        max_length=7,
        required=False,
        error_messages={"invalid": HEX_COLOUR.message},
    )

    class Meta:
        model = Trainer
        fields = TRAINER_FIELDS


class TrainerCreateSerializer(TrainerUpdateSerializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)

    class Meta(TrainerUpdateSerializer.Meta):
        fields = ("email", "first_name", "last_name", *TRAINER_FIELDS)


class ExpiringCertificationSerializer(CertificationSerializer):
    trainer = serializers.IntegerField(source="trainer_id", read_only=True)
    trainer_name = serializers.CharField(source="trainer.name", read_only=True)

    class Meta(CertificationSerializer.Meta):
        fields = (*CertificationSerializer.Meta.fields, "trainer", "trainer_name")


# --- Clients --------------------------------------------------------------------------------


class ClientTrainerSerializer(serializers.ModelSerializer):
    """One of a client's current trainers (from the prefetched current assignments)."""

    id = serializers.IntegerField(source="trainer_id", read_only=True)
    name = serializers.CharField(source="trainer.name", read_only=True)
    assignment = serializers.IntegerField(source="pk", read_only=True)

    class Meta:
        model = Assignment
        fields = ("id", "name", "is_primary", "assignment")
        read_only_fields = fields


class ClientListSerializer(serializers.ListSerializer):
    """Works out once per page whose health data the viewer may see (one query at most)."""

    def to_representation(self, data: Iterable[Client] | Manager[Client]) -> list[Any]:
        clients = list(data.all() if isinstance(data, Manager) else data)
        self.child.health_client_ids = visible = selectors.health_data_visible_ids(
            viewer=_viewer(self), client_ids=[client.pk for client in clients]
        )
        if clients and not hasattr(clients[0], "current_assignments"):
            # Listed without the prefetch (ClientViewSet.list): the trainers in one light query.
            trainers = selectors.current_trainer_rows(client_ids=[client.pk for client in clients])
            for client in clients:
                client.trainer_rows = trainers.get(client.pk, [])  # type: ignore[attr-defined]
        if type(self.child) is ClientSerializer:
            # The hot path of the API: the same representation as ClientSerializer (a test
            # holds them equal) without DRF's per-field machinery, several times faster.
            return [client_row(client, show_health=client.pk in visible) for client in clients]
        return [self.child.to_representation(client) for client in clients]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return _datetime(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _datetime(value: datetime.datetime | None) -> str | None:
    """DRF's DateTimeField representation (ISO 8601 in the current time zone, UTC as "Z"),
    without its per-call field machinery: two of these per client on every page."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def client_row(client: Client, *, show_health: bool) -> dict[str, Any]:
    """ClientSerializer's representation of one client, built directly."""
    row: dict[str, Any] = {"id": client.pk, "user": client.user_id, "full_name": client.full_name}
    for name in CLIENT_PROFILE_FIELDS:
        row[name] = _plain(getattr(client, name))
    if show_health:
        row["health_notes"] = client.health_notes
        row["parq_answers"] = client.parq_answers
    trainer_rows = getattr(client, "trainer_rows", None)
    row["trainers"] = (
        trainer_rows
        if trainer_rows is not None
        else [
            {
                "id": assignment.trainer_id,
                "name": assignment.trainer.name,
                "is_primary": assignment.is_primary,
                "assignment": assignment.pk,
            }
            for assignment in client.current_assignments
        ]
    )
    row["created_at"] = _datetime(client.created_at)
    row["updated_at"] = _datetime(client.updated_at)
    return row


class ClientSerializer(serializers.ModelSerializer):
    """A client as the viewer may see them: health fields only for those allowed to see health
    data (managers, the client's current trainers, the client), never for front desk."""

    user = serializers.IntegerField(
        source="user_id",
        read_only=True,
        allow_null=True,
        help_text=_("The client's portal login, if they have one."),
    )
    full_name = serializers.CharField(read_only=True)
    trainers = ClientTrainerSerializer(source="current_assignments", many=True, read_only=True)
    # Not read-only so the schema marks them optional: they are left out for some viewers.
    health_notes = serializers.CharField(required=False)
    parq_answers = ParqAnswersField(required=False)

    health_client_ids: set[int] | None = None

    class Meta:
        model = Client
        list_serializer_class = ClientListSerializer
        fields = (
            "id",
            "user",
            "full_name",
            *CLIENT_PROFILE_FIELDS,
            *CLIENT_HEALTH_FIELDS,
            "trainers",
            "created_at",
            "updated_at",
        )
        read_only_fields = tuple(name for name in fields if name not in CLIENT_HEALTH_FIELDS)

    def to_representation(self, client: Client) -> dict[str, Any]:
        data = super().to_representation(client)
        visible = self.health_client_ids
        if visible is None:  # a single client (retrieve, create, update)
            visible = selectors.health_data_visible_ids(
                viewer=_viewer(self), client_ids=[client.pk]
            )
        if client.pk not in visible:
            for field in CLIENT_HEALTH_FIELDS:
                data.pop(field, None)
        return data


class ClientWriteSerializer(dates.ModelSerializer):
    """What a request may send about a client. Which of these fields a viewer may set (health
    fields, a client's own profile) is client_create's and client_update's rule."""

    status = serializers.ChoiceField(choices=ClientStatus.choices, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=50
    )
    parq_answers = ParqAnswersField(required=False)

    class Meta:
        model = Client
        fields = (*CLIENT_PROFILE_FIELDS, *CLIENT_HEALTH_FIELDS)
        # Email uniqueness is the service's check (case-insensitive, and names the field).
        extra_kwargs = {"email": {"validators": []}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _check_date_order(
            attrs,
            start="joined_on",
            end="churned_on",
            instance=self.instance,
            message=_("A client cannot churn before they joined."),
        )
        return attrs


# --- Assignments ----------------------------------------------------------------------------


class AssignmentSerializer(dates.ModelSerializer):
    client = VisibleRelatedField(selector=selectors.client_list, queryset=Client.objects.all())
    trainer = VisibleRelatedField(selector=selectors.trainer_list, queryset=Trainer.objects.all())
    client_name = serializers.CharField(source="client.full_name", read_only=True)
    trainer_name = serializers.CharField(source="trainer.name", read_only=True)
    is_current = serializers.BooleanField(read_only=True)

    class Meta:
        model = Assignment
        fields = (
            "id",
            "client",
            "client_name",
            "trainer",
            "trainer_name",
            "is_primary",
            "starts_on",
            "ends_on",
            "is_current",
            "created_at",
        )
        read_only_fields = ("id", "ends_on", "created_at")


class AssignmentEndSerializer(serializers.Serializer):
    ends_on = dates.DateField(
        required=False, help_text=_("The last day of the assignment; today when left out.")
    )


# --- Notes ----------------------------------------------------------------------------------


class NoteSerializer(serializers.ModelSerializer):
    client = VisibleRelatedField(selector=selectors.client_list, queryset=Client.objects.all())
    author = serializers.IntegerField(source="author_id", read_only=True, allow_null=True)
    author_name = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=NoteKind.choices)

    class Meta:
        model = Note
        fields = (
            "id",
            "client",
            "kind",
            "body",
            "author",
            "author_name",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "author", "author_name", "created_at", "updated_at")

    @extend_schema_field(serializers.CharField())
    def get_author_name(self, note: Note) -> str:
        if note.author is None:
            return ""
        return note.author.get_full_name() or note.author.email


class NoteUpdateSerializer(serializers.ModelSerializer):
    """Only the text of a note changes; its client and kind are fixed once written."""

    class Meta:
        model = Note
        fields = ("body",)


# --- Leads ----------------------------------------------------------------------------------


class LeadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = (
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "message",
            "source",
            "status",
            "marketing_consent",
            "client",
            "created_at",
            "converted_at",
        )
        read_only_fields = ("id", "status", "client", "created_at", "converted_at")


class LeadStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=LeadStatus.choices,
        help_text=_("new, contacted or lost; a lead becomes converted through `convert`."),
    )


class LeadConvertSerializer(serializers.Serializer):
    trainer = VisibleRelatedField(
        selector=selectors.trainer_list,
        queryset=Trainer.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Assign this trainer as the new client's primary trainer."),
    )
