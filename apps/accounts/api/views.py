from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import RetrieveUpdateAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api.serializers import (
    InvitationSerializer,
    MeSerializer,
    RoleChangeSerializer,
    UserSerializer,
)
from apps.accounts.models import Invitation, User
from apps.accounts.permissions import IsManagement, IsOwner
from apps.accounts.selectors import invitation_list, user_list
from apps.accounts.services import invitation_create, invitation_revoke, user_change_role
from apps.core.api.throttling import AUTH_SCOPE, AuthRateThrottle


class MeApi(RetrieveUpdateAPIView):
    """The signed-in user: who they are, their role and their gym."""

    serializer_class = MeSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> User:
        return self.request.user


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """People of the gym; what each viewer sees comes from `user_list`."""

    serializer_class = UserSerializer
    search_fields = ("email", "first_name", "last_name")
    filterset_fields = ("role", "is_active")

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return user_list(viewer=self.request.user)

    @extend_schema(request=RoleChangeSerializer, responses={200: UserSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsOwner])
    def change_role(self, request: Request, pk: str | None = None) -> Response:
        serializer = RoleChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_change_role(
            actor=request.user,
            user=self.get_object(),
            role=serializer.validated_data["role"],
        )
        return Response(UserSerializer(user).data)


class InvitationViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = InvitationSerializer
    permission_classes = [IsManagement]

    def get_throttles(self):  # type: ignore[no-untyped-def]
        # Sending invitations sends email: the strict scope, like sign-up and password reset.
        if self.action == "create":
            self.throttle_scope = AUTH_SCOPE
            return [*super().get_throttles(), AuthRateThrottle()]
        return super().get_throttles()

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real viewer
            return Invitation.objects.none()
        return invitation_list(viewer=self.request.user)

    def create(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation, _token = invitation_create(
            actor=request.user,
            email=serializer.validated_data["email"],
            role=serializer.validated_data["role"],
        )
        return Response(self.get_serializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        invitation = invitation_revoke(actor=request.user, invitation=self.get_object())
        return Response(self.get_serializer(invitation).data)
