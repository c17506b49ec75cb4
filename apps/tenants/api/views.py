from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.throttling import AUTH_SCOPE, AuthRateThrottle
from apps.tenants.api.serializers import GymCreateSerializer, GymSerializer
from apps.tenants.selectors import gym_url_for_request
from apps.tenants.services import gym_create


class GymCreateApi(APIView):
    """Create a gym with its owner. Public: this is how a gym signs up."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]
    throttle_scope = AUTH_SCOPE

    @extend_schema(
        request=GymCreateSerializer,
        responses={201: GymSerializer},
        examples=[
            OpenApiExample(
                "New gym",
                value={
                    "name": "Iron Temple",
                    "subdomain": "iron-temple",
                    "owner_email": "owner@irontemple.example",
                    "owner_password": "correct horse battery staple",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = GymCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        gym = gym_create(**serializer.validated_data)
        url = gym_url_for_request(gym=gym, request=request)
        body = GymSerializer(gym, context={"gym_url": url}).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": url})
