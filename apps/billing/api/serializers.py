"""Shapes of the billing API. Money is integer minor units with its ISO currency."""

from __future__ import annotations

from rest_framework import serializers

from apps.billing.models import (
    OFFLINE_KINDS,
    CreditGrant,
    Membership,
    MembershipPlan,
    Pack,
    Payment,
    PaymentKind,
    PromotionCode,
    SaleMethod,
)
from apps.billing.selectors import pack_list, plan_list
from apps.core import dates
from apps.crm import selectors as crm_selectors
from apps.scheduling.api.serializers import _ViewerQuerysetField

OFFLINE_CHOICES = [kind.value for kind in OFFLINE_KINDS]
# How a sale is paid: cash or a transfer (recorded), `card_on_file` (charged now; 400 naming
# payment_kind when there is no card, it is declined or needs the client to authenticate),
# or `checkout_link` (a Stripe Checkout link sent to the client: 202 with the link).
SALE_CHOICES = SaleMethod.values


class MembershipPlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = MembershipPlan
        fields = (
            "id",
            "name",
            "description",
            "interval",
            "price",
            "currency",
            "joining_fee",
            "minimum_term",
            "grant",
            "grant_count",
            "class_type_ids",
            "trial_days",
            "trial_price",
            "archived_at",
        )
        read_only_fields = ("id", "currency", "archived_at")


class CreditPackSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pack
        fields = (
            "id",
            "name",
            "kind",
            "credits",
            "price",
            "currency",
            "expiry_days",
            "archived_at",
        )
        read_only_fields = ("id", "currency", "archived_at")


class PromotionCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = PromotionCode
        fields = (
            "id",
            "code",
            "percent_off",
            "amount_off",
            "currency",
            "active",
            "stripe_coupon_id",
        )
        # The coupon is made at Stripe after each change (a task), never typed.
        read_only_fields = ("id", "currency", "stripe_coupon_id")


class MembershipSerializer(serializers.ModelSerializer):
    plan_name = serializers.CharField(source="plan.name", read_only=True)

    class Meta:
        model = Membership
        fields = (
            "id",
            "client",
            "plan",
            "plan_name",
            "status",
            "started_on",
            "current_period_start",
            "current_period_end",
            "paused_from",
            "paused_until",
            "cancel_at_period_end",
            "ended_on",
            "failed_attempts",
            "past_due_since",
        )
        read_only_fields = fields


class MembershipSellSerializer(serializers.Serializer):
    client = _ViewerQuerysetField(crm_selectors.client_list)
    plan = serializers.PrimaryKeyRelatedField(queryset=plan_list())
    payment_kind = serializers.ChoiceField(
        choices=SALE_CHOICES,
        help_text="offline_cash, offline_transfer, card_on_file (charged now) or "
        "checkout_link (a Stripe Checkout link sent to the client; 202 with the link).",
    )
    starts_on = dates.DateField(required=False)
    promotion_code = serializers.SlugRelatedField(
        slug_field="code", queryset=PromotionCode.objects.all(), required=False
    )


class MembershipChangeSerializer(serializers.Serializer):
    plan = serializers.PrimaryKeyRelatedField(queryset=plan_list())
    payment_kind = serializers.ChoiceField(choices=OFFLINE_CHOICES, required=False, default="")


class MembershipPauseSerializer(serializers.Serializer):
    paused_from = dates.DateField()
    paused_until = dates.DateField()


class MembershipCancelSerializer(serializers.Serializer):
    at_period_end = serializers.BooleanField(required=False, default=True)
    override_minimum_term = serializers.BooleanField(required=False, default=False)


class CreditSerializer(serializers.ModelSerializer):
    pack_name = serializers.CharField(source="pack.name", read_only=True)

    class Meta:
        model = CreditGrant
        fields = ("id", "client", "pack", "pack_name", "kind", "granted", "remaining", "expires_at")
        read_only_fields = fields


class PackSellSerializer(serializers.Serializer):
    client = _ViewerQuerysetField(crm_selectors.client_list)
    pack = serializers.PrimaryKeyRelatedField(queryset=pack_list())
    payment_kind = serializers.ChoiceField(
        choices=SALE_CHOICES,
        help_text="offline_cash, offline_transfer, card_on_file (charged now) or "
        "checkout_link (a Stripe Checkout link sent to the client; 202 with the link).",
    )
    promotion_code = serializers.SlugRelatedField(
        slug_field="code", queryset=PromotionCode.objects.all(), required=False
    )


class CheckoutLinkSerializer(serializers.Serializer):
    """A sale sent to the client as a Stripe Checkout link: their payment completes it."""

    checkout_url = serializers.URLField(read_only=True)


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = (
            "id",
            "client",
            "kind",
            "amount",
            "currency",
            "status",
            "refunded_amount",
            "description",
            "refund_of",
            "reason",
            "hosted_invoice_url",
            "receipt_url",
            "paid_at",
        )
        read_only_fields = fields


class PaymentRecordSerializer(serializers.Serializer):
    client = _ViewerQuerysetField(crm_selectors.client_list)
    kind = serializers.ChoiceField(choices=[*OFFLINE_CHOICES, PaymentKind.FEE.value])
    amount = serializers.IntegerField(min_value=1, max_value=10**9)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )


class RefundSerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1, max_value=10**9, required=False)
    reason = serializers.CharField(max_length=200)
