"""Billing's forms: amounts are typed in major units (60.50) and reach the services in minor
units (6050) of the gym's currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.billing.models import (
    OFFLINE_KINDS,
    CreditKind,
    Grant,
    Interval,
    MembershipPlan,
    Pack,
    PaymentKind,
    PromotionCode,
    SaleMethod,
)
from apps.billing.money import to_minor
from apps.billing.selectors import gym_currency, pack_list, plan_list

OFFLINE_CHOICES = [(kind.value, kind.label) for kind in OFFLINE_KINDS]


class MoneyField(forms.DecimalField):
    """Major units typed, minor units cleaned."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_digits", 10)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        amount = super().clean(value)
        return None if amount is None else to_minor(amount, gym_currency())


class PlanForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    interval = forms.ChoiceField(label=_("Billed"), choices=Interval.choices)
    price = MoneyField(label=_("Price"))
    joining_fee = MoneyField(label=_("Joining fee"), required=False)
    minimum_term = forms.IntegerField(
        label=_("Minimum term (billing periods)"), min_value=0, max_value=120, initial=0
    )
    grant = forms.ChoiceField(label=_("Grants"), choices=Grant.choices)
    grant_count = forms.IntegerField(
        label=_("How many (for limited plans)"), min_value=1, max_value=1000, required=False
    )
    trial_days = forms.IntegerField(label=_("Trial days"), min_value=0, max_value=365, initial=0)
    trial_price = MoneyField(label=_("Trial price"), required=False)

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("joining_fee", "trial_price"):
            data[name] = data[name] or 0
        if data["grant"] == Grant.UNLIMITED:
            data["grant_count"] = None
        return data


class PackForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Credits for"), choices=CreditKind.choices)
    credits = forms.IntegerField(label=_("Credits"), min_value=1, max_value=1000)
    price = MoneyField(label=_("Price"))
    expiry_days = forms.IntegerField(
        label=_("Expires after (days)"), min_value=1, max_value=3650, required=False
    )


class PromotionCodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    percent_off = forms.IntegerField(
        label=_("Percent off"), min_value=1, max_value=100, required=False
    )
    amount_off = MoneyField(label=_("Amount off"), required=False)


class SellPlanForm(forms.Form):
    plan = forms.ModelChoiceField(label=_("Plan"), queryset=MembershipPlan.objects.none())
    # Cash and transfers are recorded; the card on file is charged now; a Checkout link is
    # sent to the client, whose payment completes the sale.
    payment_kind = forms.ChoiceField(
        label=_("Paid by"),
        choices=SaleMethod.choices,
        help_text=_(
            "Card on file: charged now. Checkout link: sent to the client, who pays on "
            "Stripe's page."
        ),
    )
    promotion_code = forms.CharField(label=_("Promotion code"), max_length=32, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plan_list()

    def clean_promotion_code(self) -> PromotionCode | None:
        return promotion_code_clean(self.cleaned_data["promotion_code"])


def promotion_code_clean(typed: str) -> PromotionCode | None:
    """The active code typed (any case, spaces around), None when empty."""
    code = typed.strip().upper()
    if not code:
        return None
    found = PromotionCode.objects.filter(code=code, active=True).first()
    if found is None:
        raise forms.ValidationError(_("No such promotion code."))
    return found


class PortalBuyForm(forms.Form):
    """The portal's Buy: one form for everything on sale (each Buy button names its plan or
    pack), with the promotion code the client may type once."""

    plan = forms.IntegerField(required=False, min_value=1)
    pack = forms.IntegerField(required=False, min_value=1)
    promotion_code = forms.CharField(label=_("Promotion code"), max_length=32, required=False)

    def clean_promotion_code(self) -> PromotionCode | None:
        return promotion_code_clean(self.cleaned_data["promotion_code"])


class SellPackForm(SellPlanForm):
    plan = None  # type: ignore[assignment]
    pack = forms.ModelChoiceField(label=_("Pack"), queryset=Pack.objects.none())
    field_order = ("pack", "payment_kind", "promotion_code")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        forms.Form.__init__(self, *args, **kwargs)
        self.fields["pack"].queryset = pack_list()


class RecordPaymentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[*OFFLINE_CHOICES, (PaymentKind.FEE.value, PaymentKind.FEE.label)]
    )
    amount = MoneyField(label=_("Amount"), min_value=Decimal("0.01"))
    description = forms.CharField(label=_("For"), max_length=200, required=False)


class RefundForm(forms.Form):
    amount = MoneyField(
        label=_("Amount (empty: all that is left)"), required=False, min_value=Decimal("0.01")
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)


class PauseForm(forms.Form):
    paused_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    paused_until = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))


class CancelForm(forms.Form):
    at_period_end = forms.BooleanField(label=_("At the end of the period"), required=False)
    override_minimum_term = forms.BooleanField(label=_("Override the minimum term"), required=False)


class BillingSettingsForm(forms.Form):
    memberships_required = forms.BooleanField(
        label=_("Clients need a membership or credits to book"), required=False
    )
    drop_in_price = MoneyField(
        label=_("Drop-in price (one class; empty: no drop-ins)"), required=False
    )
    drop_in_valid_days = forms.IntegerField(
        label=_("Drop-in valid for (days)"), min_value=1, max_value=3650, required=False
    )
    dunning_block_days = forms.IntegerField(
        label=_("Block booking after a failed payment (days)"), min_value=0, max_value=365
    )
    dunning_suspend_days = forms.IntegerField(
        label=_("Suspend the membership after (days)"), min_value=0, max_value=365
    )
    late_cancel_fee = MoneyField(
        label=_("Late cancel fee (empty: the credit is just forfeited)"), required=False
    )
    no_show_fee = MoneyField(
        label=_("No-show fee (empty: the credit is just forfeited)"), required=False
    )

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("late_cancel_fee", "no_show_fee"):
            data[name] = data[name] or None  # 0 is no fee, as empty
        if data.get("drop_in_valid_days") is None:
            data.pop("drop_in_valid_days", None)  # empty: as it was
        return data


class CollectFeeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Paid by"), choices=OFFLINE_CHOICES)
