"""CRM endpoints. Thin: what a viewer may see comes from the selectors (an object they may not
see is a 404, never a 403 that gives away that it exists), every write goes through a service,
and a service's ValidationError or PermissionDenied becomes a 400 or 403 problem+json."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import SearchFilter
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.accounts.permissions import HasRole
from apps.crm import selectors, services
from apps.crm.api.filters import (
    AssignmentFilter,
    ClientFilter,
    LeadFilter,
    NoteFilter,
    StableOrderingFilter,
    TrainerFilter,
)
from apps.crm.api.serializers import (
    AssignmentEndSerializer,
    AssignmentSerializer,
    CertificationSerializer,
    ClientSerializer,
    ClientWriteSerializer,
    ExpiringCertificationSerializer,
    LeadConvertSerializer,
    LeadSerializer,
    LeadStatusSerializer,
    NoteSerializer,
    NoteUpdateSerializer,
    ProblemSerializer,
    TrainerCreateSerializer,
    TrainerSerializer,
    TrainerUpdateSerializer,
)
from apps.crm.models import Assignment, Client, Lead, Note, Trainer

PROBLEM = "application/problem+json"
PROBLEM_400 = {(400, PROBLEM): ProblemSerializer}
PROBLEM_403 = {(403, PROBLEM): ProblemSerializer}
PROBLEM_404 = {(404, PROBLEM): ProblemSerializer}
WRITE_PROBLEMS = {**PROBLEM_400, **PROBLEM_403, **PROBLEM_404}


class SelectorViewSetMixin:
    """get_queryset comes from a selector, called with the requesting user. Schema generation
    has no real user, so it gets an empty queryset of the model instead."""

    model: type[Model]
    filter_backends = [DjangoFilterBackend, SearchFilter, StableOrderingFilter]

    def visible(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.visible()


# --- Clients --------------------------------------------------------------------------------

CLIENT_EXAMPLE_REQUEST = OpenApiExample(
    "A new client",
    request_only=True,
    value={
        "first_name": "Ann",
        "last_name": "Able",
        "email": "ann@example.com",
        "phone": "+44 7700 900001",
        "status": "trial",
        "tags": ["morning", "vip"],
        "goals": "Run 10 km by June.",
        "health_notes": "Asthma; carries an inhaler.",
    },
)
CLIENT_EXAMPLE_RESPONSE = OpenApiExample(
    "The client as a manager sees them",
    response_only=True,
    status_codes=["200", "201"],
    value={
        "id": 42,
        "user": None,
        "full_name": "Ann Able",
        "first_name": "Ann",
        "last_name": "Able",
        "email": "ann@example.com",
        "phone": "+44 7700 900001",
        "date_of_birth": None,
        "emergency_contact_name": "",
        "emergency_contact_phone": "",
        "goals": "Run 10 km by June.",
        "status": "trial",
        "tags": ["morning", "vip"],
        "source": "",
        "joined_on": "2025-03-01",
        "churned_on": None,
        "notify_by_email": True,
        "notify_by_sms": False,
        "health_notes": "Asthma; carries an inhaler.",
        "parq_answers": {},
        "trainers": [{"id": 3, "name": "Tina Trainer", "is_primary": True, "assignment": 7}],
        "created_at": "2025-03-01T09:30:00Z",
        "updated_at": "2025-03-01T09:30:00Z",
    },
)
CLIENT_EXAMPLE_INVALID = OpenApiExample(
    "Bad input: each message names its field",
    response_only=True,
    status_codes=["400"],
    media_type=PROBLEM,
    value={
        "type": "https://fitnesscrm.dev/problems/invalid",
        "title": "Some fields are not valid.",
        "status": 400,
        "detail": "email: A client with this email already exists. status: "
        '"zombie" is not a valid choice.',
        "errors": {
            "email": ["A client with this email already exists."],
            "status": ['"zombie" is not a valid choice.'],
        },
        "instance": "/api/v1/clients/",
    },
)


@extend_schema_view(
    list=extend_schema(
        summary=_("Clients the signed-in user may see"),
        parameters=[
            OpenApiParameter(
                "search",
                OpenApiTypes.STR,
                description=_("Part of the first or last name, email or phone."),
            )
        ],
        responses={200: ClientSerializer(many=True), **PROBLEM_400},
    ),
    retrieve=extend_schema(
        responses={200: ClientSerializer, **PROBLEM_404}, examples=[CLIENT_EXAMPLE_RESPONSE]
    ),
    create=extend_schema(
        summary=_("Add a client"),
        description=_(
            "Front desk may not send health fields; a trainer who adds a client becomes their "
            "primary trainer."
        ),
        request=ClientWriteSerializer,
        responses={201: ClientSerializer, **PROBLEM_400, **PROBLEM_403},
        examples=[CLIENT_EXAMPLE_REQUEST, CLIENT_EXAMPLE_RESPONSE, CLIENT_EXAMPLE_INVALID],
    ),
    update=extend_schema(
        request=ClientWriteSerializer,
        responses={200: ClientSerializer, **WRITE_PROBLEMS},
    ),
    partial_update=extend_schema(
        summary=_("Change some of a client's fields"),
        request=ClientWriteSerializer,
        responses={200: ClientSerializer, **WRITE_PROBLEMS},
        examples=[CLIENT_EXAMPLE_INVALID],
    ),
    destroy=extend_schema(
        summary=_("Delete a client added by mistake"),
        description=_(
            "Owners and managers only. A client with a portal login is erased through the "
            "privacy page instead (400 naming `user`)."
        ),
        responses={204: None, **WRITE_PROBLEMS},
    ),
)
class ClientViewSet(SelectorViewSetMixin, viewsets.ModelViewSet):
    model = Client
    serializer_class = ClientSerializer
    # Search goes through the selector (client_list(search=...)), not SearchFilter.
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    filterset_class = ClientFilter
    ordering_fields = ("last_name", "first_name", "email", "status", "joined_on", "created_at")
    ordering = ("last_name", "first_name")

    def visible(self) -> QuerySet[Client]:
        search = self.request.query_params.get("search", "") if self.action == "list" else ""
        # A page of clients reads its trainers in ClientListSerializer (current_trainer_rows).
        return selectors.client_list(
            viewer=self.request.user,
            search=search.strip(),
            prefetch_trainers=self.action != "list",
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action in ("create", "update", "partial_update"):
            return ClientWriteSerializer
        return ClientSerializer

    def _represent(self, client: Client) -> dict[str, Any]:
        # Read back through the selector: the response shows the trainers (a trainer who adds
        # a client is assigned to them) and only the fields this viewer may see.
        fresh = selectors.client_list(viewer=self.request.user).filter(pk=client.pk).first()
        if fresh is None:
            client.current_assignments = []  # type: ignore[attr-defined]
            fresh = client
        return ClientSerializer(fresh, context=self.get_serializer_context()).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ClientWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        client = services.client_create(actor=request.user, **serializer.validated_data)
        return Response(self._represent(client), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        client = self.get_object()
        serializer = ClientWriteSerializer(
            client,
            data=request.data,
            partial=kwargs.get("partial", False),
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        client = services.client_update(
            actor=request.user, client=client, **serializer.validated_data
        )
        return Response(self._represent(client))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.client_delete(actor=request.user, client=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Trainers -------------------------------------------------------------------------------


class ExpiringQuerySerializer(serializers.Serializer):
    within_days = serializers.IntegerField(
        min_value=0,
        max_value=365,
        default=selectors.CERTIFICATION_WARNING_DAYS,
        help_text=_("Certifications expiring within this many days (and expired ones)."),
    )


@extend_schema_view(
    list=extend_schema(summary=_("Trainers (a client sees their own trainers)")),
    retrieve=extend_schema(responses={200: TrainerSerializer, **PROBLEM_404}),
    create=extend_schema(
        summary=_("Make someone a trainer (owners and managers)"),
        description=_(
            "An existing staff account with this email becomes a trainer; otherwise a new "
            "account is made that the trainer activates by resetting their password."
        ),
        request=TrainerCreateSerializer,
        responses={201: TrainerSerializer, **PROBLEM_400, **PROBLEM_403},
        examples=[
            OpenApiExample(
                "A new trainer",
                request_only=True,
                value={
                    "email": "tina@example.com",
                    "first_name": "Tina",
                    "last_name": "Trainer",
                    "specialties": ["strength", "mobility"],
                    "hourly_rate": "45.00",
                    "calendar_colour": "#1a7f5a",
                },
            )
        ],
    ),
    update=extend_schema(
        request=TrainerUpdateSerializer, responses={200: TrainerSerializer, **WRITE_PROBLEMS}
    ),
    partial_update=extend_schema(
        summary=_("Change a trainer (a trainer may change their own bio and specialties)"),
        request=TrainerUpdateSerializer,
        responses={200: TrainerSerializer, **WRITE_PROBLEMS},
    ),
)
class TrainerViewSet(
    SelectorViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    # No delete: a trainer who leaves is made inactive, and their assignments stay history.
    model = Trainer
    serializer_class = TrainerSerializer
    filterset_class = TrainerFilter
    search_fields = ("user__first_name", "user__last_name", "user__email")
    ordering_fields = ("user__first_name", "user__last_name", "created_at")
    ordering = ("user__first_name", "user__last_name")

    def visible(self) -> QuerySet[Trainer]:
        return selectors.trainer_list(viewer=self.request.user)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "create":
            return TrainerCreateSerializer
        if self.action in ("update", "partial_update"):
            return TrainerUpdateSerializer
        return TrainerSerializer

    def _represent(self, trainer: Trainer) -> dict[str, Any]:
        fresh = selectors.trainer_list(viewer=self.request.user).get(pk=trainer.pk)
        return TrainerSerializer(fresh, context=self.get_serializer_context()).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TrainerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        trainer = services.trainer_create(actor=request.user, **serializer.validated_data)
        return Response(self._represent(trainer), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        trainer = self.get_object()
        serializer = TrainerUpdateSerializer(
            trainer, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        trainer = services.trainer_update(
            actor=request.user, trainer=trainer, **serializer.validated_data
        )
        return Response(self._represent(trainer))

    @extend_schema(
        methods=["GET"],
        summary=_("A trainer's certifications"),
        responses={200: CertificationSerializer(many=True), **PROBLEM_404},
    )
    @extend_schema(
        methods=["POST"],
        summary=_("Add a certification (managers, or the trainer themselves)"),
        request=CertificationSerializer,
        responses={201: CertificationSerializer, **WRITE_PROBLEMS},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def certifications(self, request: Request, pk: str | None = None) -> Response:
        trainer = self.get_object()
        if request.method == "GET":
            certifications = trainer.certifications.all()
            return Response(CertificationSerializer(certifications, many=True).data)
        serializer = CertificationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        certification = services.certification_create(
            actor=request.user, trainer=trainer, **serializer.validated_data
        )
        return Response(CertificationSerializer(certification).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Remove a certification"),
        parameters=[OpenApiParameter("certification_id", int, OpenApiParameter.PATH)],
        request=None,
        responses={204: None, **PROBLEM_403, **PROBLEM_404},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"certifications/(?P<certification_id>\d+)",
        url_name="certification-detail",
        filter_backends=[],
    )
    def certification_delete(
        self, request: Request, pk: str | None = None, certification_id: str | None = None
    ) -> Response:
        certification = self.get_object().certifications.filter(pk=certification_id).first()
        if certification is None:
            raise Http404
        services.certification_delete(actor=request.user, certification=certification)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=_("Certifications expiring soon, of the trainers the user may see"),
        parameters=[ExpiringQuerySerializer],
        responses={200: ExpiringCertificationSerializer(many=True), **PROBLEM_400},
    )
    @action(detail=False, methods=["get"], filter_backends=[])
    def expiring_certifications(self, request: Request) -> Response:
        query = ExpiringQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        certifications = selectors.certifications_expiring(
            within_days=query.validated_data["within_days"]
        ).filter(trainer__in=selectors.trainer_list(viewer=request.user))
        page = self.paginate_queryset(certifications)
        data = ExpiringCertificationSerializer(page, many=True).data
        return self.get_paginated_response(data)


# --- Assignments ----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary=_("Who coaches whom, with history")),
    retrieve=extend_schema(responses={200: AssignmentSerializer, **PROBLEM_404}),
    create=extend_schema(
        summary=_("Assign a trainer to a client"),
        description=_(
            "A new primary trainer demotes the previous one; assigning the same trainer again "
            "returns the open assignment."
        ),
        responses={201: AssignmentSerializer, **PROBLEM_400, **PROBLEM_403},
    ),
)
class AssignmentViewSet(
    SelectorViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    # No delete or edit: an assignment is ended (`end`) and kept as history.
    model = Assignment
    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilter
    search_fields = ()
    ordering_fields = ("starts_on", "ends_on", "created_at")
    ordering = ("-starts_on",)

    def visible(self) -> QuerySet[Assignment]:
        return selectors.assignment_list(viewer=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        assignment = services.assignment_create(
            actor=request.user,
            client=data["client"],
            trainer=data["trainer"],
            is_primary=data.get("is_primary", False),
            starts_on=data.get("starts_on"),
        )
        return Response(self.get_serializer(assignment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Unassign: end the assignment (it stays as history)"),
        request=AssignmentEndSerializer,
        responses={200: AssignmentSerializer, **WRITE_PROBLEMS},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def end(self, request: Request, pk: str | None = None) -> Response:
        assignment = self.get_object()
        serializer = AssignmentEndSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.assignment_end(
            actor=request.user,
            assignment=assignment,
            ends_on=serializer.validated_data.get("ends_on"),
        )
        return Response(self.get_serializer(assignment).data)


# --- Notes ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Notes on clients (none for front desk and clients)"),
    ),
    retrieve=extend_schema(responses={200: NoteSerializer, **PROBLEM_404}),
    create=extend_schema(
        summary=_("Write a note (managers and the client's trainers)"),
        responses={201: NoteSerializer, **PROBLEM_400, **PROBLEM_403},
    ),
    update=extend_schema(
        request=NoteUpdateSerializer, responses={200: NoteSerializer, **WRITE_PROBLEMS}
    ),
    partial_update=extend_schema(
        request=NoteUpdateSerializer, responses={200: NoteSerializer, **WRITE_PROBLEMS}
    ),
    destroy=extend_schema(responses={204: None, **PROBLEM_403, **PROBLEM_404}),
)
class NoteViewSet(SelectorViewSetMixin, viewsets.ModelViewSet):
    model = Note
    serializer_class = NoteSerializer
    filterset_class = NoteFilter
    search_fields = ()
    ordering_fields = ("created_at", "updated_at")
    ordering = ("-created_at",)

    def visible(self) -> QuerySet[Note]:
        return selectors.note_list(viewer=self.request.user)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action in ("update", "partial_update"):
            return NoteUpdateSerializer
        return NoteSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = NoteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        note = services.note_create(actor=request.user, **serializer.validated_data)
        return Response(
            NoteSerializer(note, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        note = self.get_object()
        serializer = NoteUpdateSerializer(note, data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.note_update(
            actor=request.user, note=note, body=serializer.validated_data["body"]
        )
        return Response(NoteSerializer(note, context=self.get_serializer_context()).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.note_delete(actor=request.user, note=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Leads ----------------------------------------------------------------------------------


class HandlesLeads(HasRole):
    # The same roles lead_list and the lead services accept; checked up front as well because
    # creating a lead (lead_capture, the public form's service) has no actor to check.
    roles = frozenset({Role.OWNER, Role.MANAGER, Role.FRONT_DESK})
    message = _("Only managers and front desk handle leads.")


LEAD_CONVERT_REQUEST = OpenApiExample(
    "Convert and assign a trainer",
    request_only=True,
    value={"trainer": 3},
)
LEAD_CONVERT_RESPONSE = OpenApiExample(
    "The new client (on trial)",
    response_only=True,
    status_codes=["200"],
    value={
        "id": 57,
        "user": None,
        "full_name": "Lee Prospect",
        "first_name": "Lee",
        "last_name": "Prospect",
        "email": "lee@example.com",
        "phone": "",
        "date_of_birth": None,
        "emergency_contact_name": "",
        "emergency_contact_phone": "",
        "goals": "I would like to get stronger.",
        "status": "trial",
        "tags": [],
        "source": "website",
        "joined_on": "2025-03-02",
        "churned_on": None,
        "notify_by_email": True,
        "notify_by_sms": False,
        "health_notes": "",
        "parq_answers": {},
        "trainers": [{"id": 3, "name": "Tina Trainer", "is_primary": True, "assignment": 12}],
        "created_at": "2025-03-02T10:00:00Z",
        "updated_at": "2025-03-02T10:00:00Z",
    },
)


@extend_schema_view(
    list=extend_schema(summary=_("The lead inbox (managers and front desk)")),
    retrieve=extend_schema(responses={200: LeadSerializer, **PROBLEM_403, **PROBLEM_404}),
    create=extend_schema(
        summary=_("Record a lead taken by phone or at the desk"),
        responses={201: LeadSerializer, **PROBLEM_400, **PROBLEM_403},
    ),
    partial_update=extend_schema(
        summary=_("Change a lead's status (new, contacted, lost)"),
        request=LeadStatusSerializer,
        responses={200: LeadSerializer, **WRITE_PROBLEMS},
    ),
)
class LeadViewSet(
    SelectorViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    # No delete: a lead that goes nowhere is marked lost, so the inbox keeps its history.
    model = Lead
    serializer_class = LeadSerializer
    permission_classes = [HandlesLeads]
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_class = LeadFilter
    search_fields = ("first_name", "last_name", "email", "phone")
    ordering_fields = ("created_at", "status", "last_name")
    ordering = ("-created_at",)

    def visible(self) -> QuerySet[Lead]:
        return selectors.lead_list(viewer=self.request.user)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "partial_update":
            return LeadStatusSerializer
        if self.action == "convert":
            return LeadConvertSerializer
        return LeadSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = LeadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_capture(**serializer.validated_data)
        return Response(LeadSerializer(lead).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lead = self.get_object()
        serializer = LeadStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_update_status(
            actor=request.user,
            lead=lead,
            status=serializer.validated_data["status"],
        )
        return Response(LeadSerializer(lead).data)

    @extend_schema(
        summary=_("Convert a lead into a client"),
        description=_(
            "Makes the lead a client on trial (or links the client who already has the lead's "
            "email) and optionally assigns a primary trainer. Converting again returns the same "
            "client."
        ),
        request=LeadConvertSerializer,
        responses={200: ClientSerializer, **WRITE_PROBLEMS},
        examples=[LEAD_CONVERT_REQUEST, LEAD_CONVERT_RESPONSE],
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def convert(self, request: Request, pk: str | None = None) -> Response:
        lead = self.get_object()
        serializer = LeadConvertSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        client = services.lead_convert(
            actor=request.user,
            lead=lead,
            trainer=serializer.validated_data.get("trainer"),
        )
        fresh = selectors.client_list(viewer=request.user).get(pk=client.pk)
        return Response(ClientSerializer(fresh, context=self.get_serializer_context()).data)
