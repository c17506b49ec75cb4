"""Booking-policy endpoints: strikes (staff see them, owners and managers waive them) and a
client's block state. Thin: reads from apps.scheduling.policies.selectors, writes through
apps.scheduling.policies.services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import IsStaffMember
from apps.scheduling.api.policy_serializers import (
    BlockQuerySerializer,
    BlockStateSerializer,
    StrikeQuerySerializer,
    StrikeSerializer,
    StrikeWaiveSerializer,
)
from apps.scheduling.models import Strike
from apps.scheduling.policies import selectors as policy_selectors
from apps.scheduling.policies import services as policy_services

CLIENT_PARAMETER = OpenApiParameter("client", OpenApiTypes.INT)


class StrikeViewSet(viewsets.ReadOnlyModelViewSet):
    """Late cancels and no-shows, newest first. Staff only; a trainer sees their own clients'.
    GET ?client= for one client."""

    serializer_class = StrikeSerializer
    permission_classes = (IsStaffMember,)

    def get_queryset(self) -> QuerySet[Strike]:
        if getattr(self, "swagger_fake_view", False):
            return Strike.objects.none()
        client = None
        if self.action == "list":
            query = StrikeQuerySerializer(
                data=self.request.query_params, context={"request": self.request}
            )
            query.is_valid(raise_exception=True)
            client = query.validated_data.get("client")
        return policy_selectors.strike_list(viewer=self.request.user, client=client)

    @extend_schema(parameters=[CLIENT_PARAMETER])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        parameters=[OpenApiParameter("client", OpenApiTypes.INT, required=True)],
        responses={200: BlockStateSerializer},
    )
    @action(detail=False, methods=["get"])
    def block(self, request: Request) -> Response:
        """Whether the client may book now: strikes inside the window and `blocked_until`."""
        query = BlockQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        client = query.validated_data["client"]
        state = policy_selectors.client_block_state(client=client)
        data = {
            "client": client.pk,
            "active_strikes": state.active_strikes,
            "strike_limit": state.strike_limit,
            "is_blocked": state.is_blocked,
            "blocked_until": state.blocked_until,
        }
        return Response(BlockStateSerializer(data).data)

    @extend_schema(request=StrikeWaiveSerializer, responses={200: StrikeSerializer})
    @action(detail=True, methods=["post"])
    def waive(self, request: Request, pk: str | None = None) -> Response:
        """Owners and managers: the strike stops counting (who, when and why are kept)."""
        strike = self.get_object()
        serializer = StrikeWaiveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        strike = policy_services.strike_waive(
            actor=request.user,
            strike=strike,
            reason=serializer.validated_data["reason"],
        )
        return Response(StrikeSerializer(strike).data)
