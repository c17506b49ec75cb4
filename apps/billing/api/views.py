"""Billing endpoints: the catalogue, memberships (sell, change, pause, resume, cancel), credits
(sell a pack), payments (record cash or a transfer, refund). Thin: every write goes through
apps.billing.services, every list through a selector that knows the viewer. POSTs that create
money take an Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from apps.billing import selectors, services
from apps.billing.api import serializers as s
from apps.billing.models import (
    CreditGrant,
    Membership,
    MembershipPlan,
    Pack,
    Payment,
    PromotionCode,
)
from apps.scheduling.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent


def _sale_response(sale: services.Sale, sold: Callable[[], Any]) -> Response:
    """201 with what was sold, or 202 with the Checkout link sent (the sale completes when
    the client pays)."""
    if sale.checkout_url:
        link = s.CheckoutLinkSerializer({"checkout_url": sale.checkout_url}).data
        return Response(link, status=status.HTTP_202_ACCEPTED)
    return Response(sold(), status=status.HTTP_201_CREATED)


class _CatalogueViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Everyone in the gym reads the catalogue (clients see what they can buy); the owner
    changes it; `archive` retires an item for good."""

    create_service: Any
    update_service: Any
    archive_service: Any
    instance_name: str

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = type(self).create_service(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = type(self).update_service(
            actor=self.request.user,
            **{self.instance_name: serializer.instance},
            **serializer.validated_data,
        )


class PlanViewSet(_CatalogueViewSet):
    serializer_class = s.MembershipPlanSerializer
    create_service = services.plan_create
    update_service = services.plan_update
    instance_name = "plan"

    def get_queryset(self) -> QuerySet[MembershipPlan]:
        include = selectors.can_manage_catalogue(self.request.user)
        return selectors.plan_list(include_archived=include)

    @extend_schema(request=None, responses={200: s.MembershipPlanSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str | None = None) -> Response:
        plan = services.plan_archive(actor=request.user, plan=self.get_object())
        return Response(s.MembershipPlanSerializer(plan).data)


class PackViewSet(_CatalogueViewSet):
    serializer_class = s.CreditPackSerializer
    create_service = services.pack_create
    update_service = services.pack_update
    instance_name = "pack"

    def get_queryset(self) -> QuerySet[Pack]:
        include = selectors.can_manage_catalogue(self.request.user)
        return selectors.pack_list(include_archived=include)

    @extend_schema(request=None, responses={200: s.CreditPackSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str | None = None) -> Response:
        pack = services.pack_archive(actor=request.user, pack=self.get_object())
        return Response(s.CreditPackSerializer(pack).data)


class PromotionCodeViewSet(_CatalogueViewSet):
    """Staff who sell see the codes; clients type them at checkout instead."""

    serializer_class = s.PromotionCodeSerializer
    create_service = services.promotion_code_create
    update_service = services.promotion_code_update
    instance_name = "promotion_code"

    def get_queryset(self) -> QuerySet[PromotionCode]:
        if getattr(self, "swagger_fake_view", False):
            return PromotionCode.objects.none()
        if not selectors.can_sell(self.request.user):
            raise PermissionDenied()
        return selectors.promotion_code_list()


class MembershipViewSet(viewsets.ReadOnlyModelViewSet):
    """Memberships the requesting user may see: all for staff at the desk and managers, their
    assigned clients' for trainers (status only), their own for a client."""

    serializer_class = s.MembershipSerializer

    def get_queryset(self) -> QuerySet[Membership]:
        memberships = selectors.memberships_visible(self.request.user)
        client = self.request.query_params.get("client")
        if client and client.isdigit():
            memberships = memberships.filter(client_id=int(client))
        return memberships.order_by("-started_on", "-pk")

    @extend_schema(
        request=s.MembershipSellSerializer,
        responses={201: s.MembershipSerializer, 202: s.CheckoutLinkSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Sell a plan: cash or a transfer recorded, or the card on file charged now (201 with
        the membership); or a Stripe Checkout link sent to the client (202 with the link: the
        membership comes when they pay)."""

        def handler() -> Response:
            serializer = s.MembershipSellSerializer(data=request.data, context={"request": request})
            serializer.is_valid(raise_exception=True)
            sale = services.sale_make(actor=request.user, **serializer.validated_data)
            return _sale_response(sale, lambda: s.MembershipSerializer(sale.membership).data)

        return idempotent(request, handler)

    @extend_schema(
        request=s.MembershipChangeSerializer,
        responses={200: s.MembershipSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def change(self, request: Request, pk: str | None = None) -> Response:
        """Move to another plan now; the rest of the period is prorated."""
        membership = self.get_object()

        def handler() -> Response:
            serializer = s.MembershipChangeSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            changed = services.membership_change(
                actor=request.user, membership=membership, **serializer.validated_data
            )
            return Response(s.MembershipSerializer(changed).data)

        return idempotent(request, handler)

    @extend_schema(request=s.MembershipPauseSerializer, responses={200: s.MembershipSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        membership = self.get_object()
        serializer = s.MembershipPauseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_pause(
            actor=request.user, membership=membership, **serializer.validated_data
        )
        return Response(s.MembershipSerializer(membership).data)

    @extend_schema(request=None, responses={200: s.MembershipSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        membership = services.membership_resume(actor=request.user, membership=self.get_object())
        return Response(s.MembershipSerializer(membership).data)

    @extend_schema(request=s.MembershipCancelSerializer, responses={200: s.MembershipSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        membership = self.get_object()
        serializer = s.MembershipCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_cancel(
            actor=request.user, membership=membership, **serializer.validated_data
        )
        return Response(s.MembershipSerializer(membership).data)


class CreditViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.CreditSerializer

    def get_queryset(self) -> QuerySet[CreditGrant]:
        credits = selectors.credits_visible(self.request.user)
        client = self.request.query_params.get("client")
        if client and client.isdigit():
            credits = credits.filter(client_id=int(client))
        return credits.order_by("expires_at", "pk")

    @extend_schema(
        request=s.PackSellSerializer,
        responses={201: s.CreditSerializer, 202: s.CheckoutLinkSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Sell a pack: cash or a transfer recorded, or the card on file charged now (201 with
        its credits); or a Stripe Checkout link sent to the client (202 with the link: the
        credits come when they pay)."""

        def handler() -> Response:
            serializer = s.PackSellSerializer(data=request.data, context={"request": request})
            serializer.is_valid(raise_exception=True)
            sale = services.sale_make(actor=request.user, **serializer.validated_data)
            return _sale_response(sale, lambda: s.CreditSerializer(sale.credit).data)

        return idempotent(request, handler)


class PaymentViewSet(viewsets.ReadOnlyModelViewSet):
    """The ledger: payments in (card, cash, transfer, fee) and refunds out. Trainers see none."""

    serializer_class = s.PaymentSerializer

    def get_queryset(self) -> QuerySet[Payment]:
        payments = selectors.payments_visible(self.request.user)
        client = self.request.query_params.get("client")
        if client and client.isdigit():
            payments = payments.filter(client_id=int(client))
        return payments.order_by("-paid_at", "-pk")

    @extend_schema(
        request=s.PaymentRecordSerializer,
        responses={201: s.PaymentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record cash, a bank transfer or a fee taken at the desk."""

        def handler() -> Response:
            serializer = s.PaymentRecordSerializer(data=request.data, context={"request": request})
            serializer.is_valid(raise_exception=True)
            payment = services.payment_record_offline(
                actor=request.user, **serializer.validated_data
            )
            return Response(s.PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

        return idempotent(request, handler)

    @extend_schema(
        request=s.RefundSerializer,
        responses={201: s.PaymentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def refund(self, request: Request, pk: str | None = None) -> Response:
        """Refund all of the payment (no amount) or part of it, with a reason."""
        payment = self.get_object()

        def handler() -> Response:
            serializer = s.RefundSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            refund = services.payment_refund(
                actor=request.user, payment=payment, **serializer.validated_data
            )
            return Response(s.PaymentSerializer(refund).data, status=status.HTTP_201_CREATED)

        return idempotent(request, handler)
