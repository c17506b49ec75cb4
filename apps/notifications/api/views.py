"""Notification endpoints for the mobile apps: the signed-in person's notification centre, their
choices per kind and channel with quiet hours, and their devices' web push subscriptions. Thin:
reads through apps.notifications.selectors (only the viewer's own), writes through
apps.notifications.services (which also move the live bell count)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core.api.parsers import JSONParser
from apps.crm.api.serializers import ProblemSerializer
from apps.crm.selectors import client_for_user
from apps.messaging.api.views import MessageCursorPagination
from apps.notifications import selectors, services
from apps.notifications.api.serializers import (
    MarkedSerializer,
    NotificationSerializer,
    PreferencesSerializer,
    PreferencesUpdateSerializer,
    PushEndpointSerializer,
    PushRemovedSerializer,
    PushSubscriptionSerializer,
    UnreadCountSerializer,
)
from apps.notifications.forms import PreferenceForm
from apps.notifications.models import Notification
from apps.notifications.services import channel_enabled
from apps.tenants.selectors import gym_zone

PROBLEM = "application/problem+json"
PROBLEM_400 = {(400, PROBLEM): ProblemSerializer}
PROBLEM_404 = {(404, PROBLEM): ProblemSerializer}

UNREAD = OpenApiParameter(
    "unread",
    OpenApiTypes.BOOL,
    description=gettext_lazy("Only unread notifications when true."),
)


class NotificationCursorPagination(MessageCursorPagination):
    """Newest first, by id; a page stays stable however many notifications arrive meanwhile."""

    page_size = 30


def _viewer(request: Request) -> User:
    return request.user  # type: ignore[return-value]


def _preference_form(user: User) -> PreferenceForm:
    client = client_for_user(user) if user.role == "client" else None
    return PreferenceForm(user=user, preference=selectors.preference_for(user), client=client)


def _preferences_data(user: User) -> dict[str, Any]:
    form = _preference_form(user)
    preference = selectors.preference_for(user)
    return {
        "channels": form.channels,
        "kinds": [
            {
                "key": kind.key,
                "label": str(kind.label),
                "channels": {
                    channel: bool(form.fields[f"{kind.key}__{channel}"].initial)
                    for channel in form.channels
                },
            }
            for kind in form.kinds
        ],
        "quiet_start": preference.quiet_start if preference else None,
        "quiet_end": preference.quiet_end if preference else None,
        "time_zone": user.time_zone or gym_zone().key,
    }


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("The signed-in person's notifications, newest first"),
        parameters=[UNREAD],
        responses={200: NotificationSerializer(many=True), **PROBLEM_400},
    ),
)
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    pagination_class = NotificationCursorPagination
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        notifications = selectors.notification_list(viewer=_viewer(self.request))
        unread = self.request.query_params.get("unread")
        if unread is not None:
            if unread not in ("true", "false"):
                raise ValidationError({"unread": [_("Must be true or false.")]})
            if unread == "true":
                notifications = notifications.filter(read_at__isnull=True)
        return notifications

    @extend_schema(
        summary=gettext_lazy("How many notifications are unread (the bell's count)"),
        responses={200: UnreadCountSerializer},
    )
    @action(detail=False, methods=["get"], url_path="unread-count", pagination_class=None)
    def unread_count(self, request: Request) -> Response:
        return Response({"unread": selectors.unread_count(viewer=_viewer(request))})

    @extend_schema(
        summary=gettext_lazy("Mark one notification read"),
        request=None,
        responses={200: MarkedSerializer, **PROBLEM_404},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def read(self, request: Request, pk: str | None = None) -> Response:
        viewer = _viewer(request)
        # Someone else's notification (or another gym's id) is not found, not forbidden.
        if not Notification.objects.filter(recipient=viewer, pk=int(pk or 0)).exists():
            raise Http404
        return Response(
            {"marked": services.notification_mark_read(viewer=viewer, notification_id=int(pk))}
        )

    @extend_schema(
        summary=gettext_lazy("Mark every notification read"),
        request=None,
        responses={200: MarkedSerializer},
    )
    @action(detail=False, methods=["post"], url_path="read-all", pagination_class=None)
    def read_all(self, request: Request) -> Response:
        return Response({"marked": services.notification_mark_read(viewer=_viewer(request))})

    @extend_schema(
        methods=["GET"],
        summary=gettext_lazy("Which kinds arrive on which channel, and quiet hours"),
        responses={200: PreferencesSerializer},
    )
    @extend_schema(
        methods=["PATCH"],
        summary=gettext_lazy("Change choices per kind and channel, or quiet hours"),
        description=gettext_lazy(
            "Only what the body names changes. Quiet hours take both ends or neither (null)."
        ),
        request=PreferencesUpdateSerializer,
        responses={200: PreferencesSerializer, **PROBLEM_400},
    )
    @action(detail=False, methods=["get", "patch"], pagination_class=None)
    def preferences(self, request: Request) -> Response:
        viewer = _viewer(request)
        if request.method == "GET":
            return Response(PreferencesSerializer(_preferences_data(viewer)).data)
        write = PreferencesUpdateSerializer(data=request.data)
        write.is_valid(raise_exception=True)
        data = write.validated_data
        form = _preference_form(viewer)
        current = {
            (kind.key, channel): bool(form.fields[f"{kind.key}__{channel}"].initial)
            for kind in form.kinds
            for channel in form.channels
        }
        kinds = {kind.key: kind for kind in form.kinds}
        for key, channels in data.get("kinds", {}).items():
            if key not in kinds:
                raise ValidationError(
                    {"kinds": [_("Unknown notification kind: %(kind)s") % {"kind": key}]}
                )
            for channel, on in channels.items():
                if channel not in form.channels:
                    raise ValidationError(
                        {
                            "kinds": [
                                _("This channel cannot be chosen here: %(channel)s")
                                % {"channel": channel}
                            ]
                        }
                    )
                current[(key, channel)] = on
        # Stored as the form stores them: what differs from the default, and every SMS choice.
        choices = {
            f"{key}:{channel}": on
            for (key, channel), on in current.items()
            if channel == "sms" or on != channel_enabled(kinds[key], channel, None)
        }
        preference = selectors.preference_for(viewer)
        quiet_start = data.get("quiet_start", preference.quiet_start if preference else None)
        quiet_end = data.get("quiet_end", preference.quiet_end if preference else None)
        services.preference_update(
            user=viewer, choices=choices, quiet_start=quiet_start, quiet_end=quiet_end
        )
        return Response(PreferencesSerializer(_preferences_data(viewer)).data)


class PushSubscriptionViewSet(viewsets.GenericViewSet):
    """A device's web push subscription for the signed-in person."""

    serializer_class = PushSubscriptionSerializer
    pagination_class = None
    filter_backends: list = []
    parser_classes = [JSONParser]

    @extend_schema(
        summary=gettext_lazy("Register this device's web push subscription"),
        request=PushSubscriptionSerializer,
        responses={201: PushSubscriptionSerializer, **PROBLEM_400},
    )
    def create(self, request: Request) -> Response:
        write = PushSubscriptionSerializer(data=request.data)
        write.is_valid(raise_exception=True)
        data = write.validated_data
        services.push_subscribe(
            user=_viewer(request),
            endpoint=data["endpoint"],
            p256dh=data["keys"]["p256dh"],
            auth=data["keys"]["auth"],
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response(write.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("Forget this device's web push subscription"),
        request=PushEndpointSerializer,
        responses={200: PushRemovedSerializer, **PROBLEM_400},
    )
    @action(detail=False, methods=["post"])
    def unsubscribe(self, request: Request) -> Response:
        write = PushEndpointSerializer(data=request.data)
        write.is_valid(raise_exception=True)
        removed = services.push_unsubscribe(
            user=_viewer(request), endpoint=write.validated_data["endpoint"]
        )
        return Response({"removed": removed})
