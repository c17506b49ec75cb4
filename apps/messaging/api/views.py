"""Messaging endpoints for the mobile apps (and the pages' live updates). Thin: what a viewer
may read comes from apps.messaging.selectors (anything else is a 404), writes go through
apps.messaging.services, which also announce them to the sockets."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role
from apps.core.api.parsers import JSONParser
from apps.crm.api.serializers import ProblemSerializer
from apps.messaging import selectors, services
from apps.messaging.api.serializers import (
    ConversationCreateSerializer,
    ConversationSerializer,
    MessageCreateSerializer,
    MessageEditSerializer,
    MessageSerializer,
    MuteSerializer,
    ReadPositionSerializer,
    ReadSerializer,
    UnreadSerializer,
    clients_by_id,
    users_by_id,
)
from apps.messaging.models import Conversation, Message
from apps.progress.api.views import ImageRenderer

PROBLEM = "application/problem+json"
PROBLEM_400 = {(400, PROBLEM): ProblemSerializer}
PROBLEM_403 = {(403, PROBLEM): ProblemSerializer}
PROBLEM_404 = {(404, PROBLEM): ProblemSerializer}
WRITE_PROBLEMS = {**PROBLEM_400, **PROBLEM_403, **PROBLEM_404}


class MessageCursorPagination(CursorPagination):
    """Newest first, by id: a page is stable however many messages arrive meanwhile. A cursor
    that is not one of ours is a 400 naming `cursor` (DRF answers 404)."""

    ordering = ("-id",)
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request: Request) -> Any:
        from rest_framework.exceptions import NotFound

        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError(
                {self.cursor_query_param: [_("This cursor is not valid.")]}
            ) from exc

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise ValidationError(
                {self.page_size_query_param: [_("Must be a whole number, 1 or more.")]}
            )
        return min(int(raw), self.max_page_size)


def _viewer(request: Request) -> User:
    return request.user  # type: ignore[return-value]


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("The signed-in user's conversations, newest message first"),
        responses={200: ConversationSerializer(many=True), **PROBLEM_400},
    ),
    retrieve=extend_schema(responses={200: ConversationSerializer, **PROBLEM_404}),
    create=extend_schema(
        summary=gettext_lazy("Open a conversation (or start a group)"),
        description=gettext_lazy(
            "A one-to-one conversation is made once: asking again answers the same one (200). "
            "Staff name a `client`; a client names nothing (the gym) or a `trainer`. A group "
            "takes `kind`, `title`, `users` and `clients`."
        ),
        request=ConversationCreateSerializer,
        responses={200: ConversationSerializer, 201: ConversationSerializer, **WRITE_PROBLEMS},
    ),
)
class ConversationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ConversationSerializer
    filter_backends: list = []
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self) -> QuerySet[Conversation]:
        if getattr(self, "swagger_fake_view", False):
            return Conversation.objects.none()
        return selectors.inbox(viewer=_viewer(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "viewer": self.request.user}

    def _answer(self, conversation: Conversation, code: int) -> Response:
        annotated = self.get_queryset().get(pk=conversation.pk)
        return Response(self.get_serializer(annotated).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        write = ConversationCreateSerializer(data=request.data)
        write.is_valid(raise_exception=True)
        data = write.validated_data
        viewer = _viewer(request)
        if "kind" in data or "title" in data or "users" in data or "clients" in data:
            if "kind" not in data:
                raise ValidationError({"kind": [_("Choose class, team or staff.")]})
            conversation = services.group_create(
                actor=viewer,
                kind=data["kind"],
                title=data.get("title", ""),
                users=users_by_id(data.get("users", [])),
                clients=clients_by_id(data.get("clients", [])),
            )
            return self._answer(conversation, status.HTTP_201_CREATED)
        client = trainer = None
        if "client" in data:
            client = selectors.messageable_clients(viewer=viewer).filter(pk=data["client"]).first()
            if client is None:
                raise ValidationError({"client": [_("Choose one of your clients.")]})
        if "trainer" in data:
            if not has_role(viewer, Role.CLIENT):
                raise ValidationError({"trainer": [_("Only clients choose a trainer here.")]})
            trainer = User.objects.filter(pk=data["trainer"], role=Role.TRAINER).first()
            if trainer is None:
                raise ValidationError({"trainer": [_("This trainer does not coach this client.")]})
        existed = self._exists(viewer, client, trainer)
        conversation = services.conversation_open(actor=viewer, client=client, trainer=trainer)
        return self._answer(
            conversation, status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )

    @staticmethod
    def _exists(viewer: User, client: Any, trainer: User | None) -> bool:
        rows = selectors.conversation_list(viewer=viewer)
        if has_role(viewer, Role.CLIENT):
            return rows.filter(kind="trainer" if trainer else "gym", trainer=trainer).exists()
        if client is None:
            return False
        if has_role(viewer, Role.TRAINER):
            return rows.filter(kind="trainer", client=client, trainer=viewer).exists()
        return rows.filter(kind="gym", client=client).exists()

    @extend_schema(
        summary=gettext_lazy("How many conversations have unread messages"),
        responses={200: UnreadSerializer},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def unread(self, request: Request) -> Response:
        return Response({"count": selectors.unread_conversation_count(viewer=_viewer(request))})

    @extend_schema(
        methods=["GET"],
        summary=gettext_lazy("A conversation's messages, newest first (cursor pagination)"),
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description=gettext_lazy("From `next`.")),
            OpenApiParameter(
                "page_size", OpenApiTypes.INT, description=gettext_lazy("At most 100.")
            ),
        ],
        responses={200: MessageSerializer(many=True), **PROBLEM_400, **PROBLEM_404},
    )
    @extend_schema(
        methods=["POST"],
        summary=gettext_lazy("Send a message (JSON, or multipart with an attachment)"),
        request={
            "application/json": MessageCreateSerializer,
            "multipart/form-data": MessageCreateSerializer,
        },
        responses={201: MessageSerializer, **WRITE_PROBLEMS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=MessageCursorPagination,
        serializer_class=MessageSerializer,
    )
    def messages(self, request: Request, pk: str | None = None) -> Response:
        viewer = _viewer(request)
        conversation = self._conversation(pk)
        if request.method == "POST":
            write = MessageCreateSerializer(data=request.data)
            write.is_valid(raise_exception=True)
            upload = write.validated_data.get("attachment")
            message = services.post_message(
                conversation=conversation,
                sender_user=viewer,
                body=write.validated_data.get("body", ""),
                attachment=upload,
                attachment_name=getattr(upload, "name", ""),
                attachment_size=getattr(upload, "size", None),
            )
            return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
        messages = selectors.message_list(viewer=viewer, conversation=conversation)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        summary=gettext_lazy("Mark the conversation read (up to a message)"),
        request=ReadSerializer,
        responses={200: ReadPositionSerializer, **WRITE_PROBLEMS},
    )
    @action(detail=True, methods=["post"], serializer_class=ReadSerializer)
    def read(self, request: Request, pk: str | None = None) -> Response:
        conversation = self._conversation(pk)
        write = ReadSerializer(data=request.data)
        write.is_valid(raise_exception=True)
        participant = services.mark_read(
            viewer=_viewer(request),
            conversation=conversation,
            up_to=write.validated_data.get("message"),
        )
        return Response(
            {
                "conversation": conversation.pk,
                "last_read_message_id": participant.last_read_message_id,
                "read_at": serializers.DateTimeField().to_representation(participant.read_at)
                if participant.read_at
                else None,
            }
        )

    @extend_schema(
        summary=gettext_lazy("Mute or unmute the conversation's unread reminders"),
        request=MuteSerializer,
        responses={200: MuteSerializer, **WRITE_PROBLEMS},
    )
    @action(detail=True, methods=["post"], serializer_class=MuteSerializer)
    def mute(self, request: Request, pk: str | None = None) -> Response:
        conversation = self._conversation(pk)
        write = MuteSerializer(data=request.data)
        write.is_valid(raise_exception=True)
        participant = services.conversation_mute(
            viewer=_viewer(request), conversation=conversation, muted=write.validated_data["muted"]
        )
        return Response({"muted": participant.muted})

    def _conversation(self, pk: str | None) -> Conversation:
        try:
            return selectors.conversation_get(viewer=_viewer(self.request), pk=int(pk or 0))
        except (Conversation.DoesNotExist, ValueError, OverflowError) as exc:
            raise Http404 from exc


@extend_schema_view(
    retrieve=extend_schema(responses={200: MessageSerializer, **PROBLEM_404}),
    partial_update=extend_schema(
        summary=gettext_lazy("Edit your own message (for a short time after sending)"),
        request=MessageEditSerializer,
        responses={200: MessageSerializer, **WRITE_PROBLEMS},
    ),
    destroy=extend_schema(
        summary=gettext_lazy("Delete your own message (for a short time after sending)"),
        responses={204: None, **WRITE_PROBLEMS},
    ),
)
class MessageViewSet(
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MessageSerializer
    filter_backends: list = []
    http_method_names = ["get", "patch", "delete", "head", "options"]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self) -> QuerySet[Message]:
        if getattr(self, "swagger_fake_view", False):
            return Message.objects.none()
        viewer = _viewer(self.request)
        return Message.objects.filter(
            conversation__in=selectors.conversation_list(viewer=viewer).values("pk")
        ).select_related("conversation", "sender_user", "sender_client")

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        message = self.get_object()
        write = MessageEditSerializer(data=request.data)
        write.is_valid(raise_exception=True)
        message = services.message_edit(
            actor=_viewer(request), message=message, body=write.validated_data["body"]
        )
        return Response(MessageSerializer(message).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.message_delete(actor=_viewer(request), message=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=gettext_lazy("The message's attachment (or its thumbnail)"),
        parameters=[OpenApiParameter("size", OpenApiTypes.STR, enum=["full", "thumb"])],
        responses={
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (200, "application/pdf"): OpenApiTypes.BINARY,
            **PROBLEM_404,
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, ImageRenderer])
    def attachment(self, request: Request, pk: str | None = None) -> FileResponse:
        return attachment_response(
            self.get_object(), thumbnail=request.query_params.get("size") == "thumb"
        )


def attachment_response(message: Message, *, thumbnail: bool) -> FileResponse:
    """Stream an attachment from the gym's storage to someone who may read its conversation.
    A PDF is always a download: shown inline, its scripts would run on the gym's origin."""
    name = (
        message.attachment_thumbnail
        if thumbnail and message.attachment_thumbnail
        else message.attachment_name
    )
    if not name or message.deleted_at:
        raise Http404
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    is_image = message.attachment_type.startswith("image/")
    response = FileResponse(
        handle,
        content_type=message.attachment_type,
        as_attachment=not is_image,
        filename=message.attachment_filename,
    )
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
