"""A gym's catalogue (plans, packs, promotion codes), what its clients hold (memberships, credit
grants), what they used it for (entitlement uses) and the payments ledger.

Money is an integer number of minor units with its ISO 4217 currency (docs/architecture.md,
"Money"). Every relation here is repeated in every gym's schema (docs/architecture.md,
"Footprint per gym"), so indexes are only where a lookup needs one: foreign keys nobody filters
by are `db_index=False`, and a plan's class types are an array of ids rather than a join table
(five relations less per gym).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.constraints import field_error_for_constraint
from apps.core.models import TimeStampedModel

CURRENCY_FIELD = {"max_length": 3}


class BillingSettings(models.Model):
    """The gym's billing rules, one row per gym: whether booking needs a membership or credit
    (off until the gym sells something, so gyms without a catalogue keep booking), the drop-in
    price (sold as the gym's drop-in pack, see `Pack.is_drop_in`), and the dunning steps after a
    failed renewal."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    memberships_required = models.BooleanField(
        _("a membership or credits are needed to book"), default=False
    )
    drop_in_price = models.PositiveIntegerField(
        _("drop-in price (minor units)"), null=True, blank=True
    )
    # How long the one class credit a drop-in sells stays usable.
    drop_in_valid_days = models.PositiveSmallIntegerField(
        _("drop-in valid for (days)"), default=30, validators=[MinValueValidator(1)]
    )
    dunning_block_days = models.PositiveIntegerField(
        _("days past due before booking is blocked"), default=7
    )
    dunning_suspend_days = models.PositiveIntegerField(
        _("days past due before the membership is suspended"), default=21
    )
    # Charged to the card on file when scheduling records the strike (empty: the credit is
    # just forfeited).
    late_cancel_fee = models.PositiveIntegerField(
        _("late cancel fee (minor units)"), null=True, blank=True
    )
    no_show_fee = models.PositiveIntegerField(_("no-show fee (minor units)"), null=True, blank=True)

    class Meta:
        verbose_name = _("billing settings")
        verbose_name_plural = _("billing settings")
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="billing_settings_singleton"),
            models.CheckConstraint(
                condition=Q(dunning_suspend_days__gte=models.F("dunning_block_days")),
                name="billing_settings_dunning_order",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Billing settings"))


class Interval(models.TextChoices):
    WEEK = "week", _("Weekly")
    MONTH = "month", _("Monthly")
    YEAR = "year", _("Yearly")


class Grant(models.TextChoices):
    UNLIMITED = "unlimited", _("Unlimited classes")
    CLASSES_PER_WEEK = "classes_week", _("Classes per week")
    CLASSES_PER_MONTH = "classes_month", _("Classes per month")
    SESSIONS_PER_MONTH = "sessions_month", _("1:1 sessions per month")


class MembershipPlan(TimeStampedModel):
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    interval = models.CharField(
        _("billed"), max_length=8, choices=Interval.choices, default=Interval.MONTH
    )
    price = models.PositiveIntegerField(_("price (minor units)"))
    currency = models.CharField(_("currency"), **CURRENCY_FIELD)
    joining_fee = models.PositiveIntegerField(_("joining fee (minor units)"), default=0)
    minimum_term = models.PositiveSmallIntegerField(_("minimum term (billing periods)"), default=0)
    grant = models.CharField(
        _("grants"), max_length=16, choices=Grant.choices, default=Grant.UNLIMITED
    )
    grant_count = models.PositiveSmallIntegerField(
        _("how many"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    # Empty: every class type. Ids rather than a join table: see the module docstring.
    class_type_ids = ArrayField(models.IntegerField(), default=list, blank=True)
    trial_days = models.PositiveSmallIntegerField(_("trial days"), default=0)
    trial_price = models.PositiveIntegerField(_("trial price (minor units)"), default=0)
    stripe_product_id = models.CharField(max_length=64, blank=True)
    stripe_price_id = models.CharField(max_length=64, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership plan")
        verbose_name_plural = _("membership plans")
        ordering = ("price", "name", "pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(grant=Grant.UNLIMITED, grant_count__isnull=True)
                | (~Q(grant=Grant.UNLIMITED) & Q(grant_count__isnull=False, grant_count__gte=1)),
                name="billing_plan_grant_count",
            ),
            models.CheckConstraint(
                condition=Q(interval__in=Interval.values), name="billing_plan_interval"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="billing_plan_currency"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CreditKind(models.TextChoices):
    CLASS = "class", _("Class credits")
    SESSION = "session", _("1:1 session credits")


class Pack(TimeStampedModel):
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(
        _("credits for"), max_length=8, choices=CreditKind.choices, default=CreditKind.CLASS
    )
    credits = models.PositiveSmallIntegerField(_("credits"), validators=[MinValueValidator(1)])
    price = models.PositiveIntegerField(_("price (minor units)"))
    currency = models.CharField(_("currency"), **CURRENCY_FIELD)
    expiry_days = models.PositiveSmallIntegerField(
        _("expires after (days)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    stripe_product_id = models.CharField(max_length=64, blank=True)
    stripe_price_id = models.CharField(max_length=64, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    # The gym's drop-in: one class credit at the billing settings' drop-in price, kept in step
    # by billing_settings_update (at most one not archived, under the settings row's lock; no
    # unique index: every relation costs every gym). Its stored name is the untranslated
    # "Drop-in"; pages show `display_name` in the reader's language.
    is_drop_in = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("pack")
        verbose_name_plural = _("packs")
        ordering = ("kind", "price", "pk")
        constraints = [
            models.CheckConstraint(condition=Q(credits__gte=1), name="billing_pack_credits"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="billing_pack_currency"
            ),
        ]

    @property
    def display_name(self) -> str:
        return str(_("Drop-in")) if self.is_drop_in else self.name

    def __str__(self) -> str:
        return self.display_name


class PromotionCode(TimeStampedModel):
    code = models.CharField(_("code"), max_length=32, unique=True)
    percent_off = models.PositiveSmallIntegerField(_("percent off"), null=True, blank=True)
    amount_off = models.PositiveIntegerField(_("amount off (minor units)"), null=True, blank=True)
    currency = models.CharField(_("currency"), **CURRENCY_FIELD)
    stripe_coupon_id = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("promotion code")
        verbose_name_plural = _("promotion codes")
        ordering = ("code",)
        constraints = [
            # Exactly one kind of discount.
            models.CheckConstraint(
                condition=Q(percent_off__isnull=False, amount_off__isnull=True)
                | Q(percent_off__isnull=True, amount_off__isnull=False),
                name="billing_promo_one_discount",
            ),
            models.CheckConstraint(
                condition=Q(percent_off__isnull=True) | Q(percent_off__gte=1, percent_off__lte=100),
                name="billing_promo_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(amount_off__isnull=True) | Q(amount_off__gte=1),
                name="billing_promo_amount_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class MembershipStatus(models.TextChoices):
    TRIALING = "trialing", _("Trial")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    PAUSED = "paused", _("Paused")
    CANCELLED = "cancelled", _("Cancelled")
    SUSPENDED = "suspended", _("Suspended")
    EXPIRED = "expired", _("Expired")


# A membership in one of these is the client's current one (at most one per client).
CURRENT_MEMBERSHIP_STATUSES = (
    MembershipStatus.TRIALING,
    MembershipStatus.ACTIVE,
    MembershipStatus.PAST_DUE,
    MembershipStatus.PAUSED,
    MembershipStatus.SUSPENDED,
)


class Membership(TimeStampedModel):
    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="memberships")
    # Never deleted once sold (archived instead); nobody looks memberships up by plan.
    plan = models.ForeignKey(
        MembershipPlan, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=MembershipStatus.choices,
        default=MembershipStatus.ACTIVE,
    )
    started_on = models.DateField(_("started"))
    current_period_start = models.DateField(_("current period from"))
    current_period_end = models.DateField(_("current period until"))
    paused_from = models.DateField(_("paused from"), null=True, blank=True)
    paused_until = models.DateField(_("paused until"), null=True, blank=True)
    cancel_at_period_end = models.BooleanField(_("cancels at period end"), default=False)
    ended_on = models.DateField(_("ended"), null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(_("failed payment attempts"), default=0)
    past_due_since = models.DateTimeField(_("past due since"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ("-started_on", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MembershipStatus.values), name="billing_membership_status"
            ),
            models.CheckConstraint(
                condition=Q(current_period_end__gte=models.F("current_period_start")),
                name="billing_membership_period",
            ),
            models.CheckConstraint(
                condition=Q(paused_from__isnull=True)
                | Q(paused_until__isnull=True)
                | Q(paused_until__gte=models.F("paused_from")),
                name="billing_membership_pause_dates",
            ),
            # Stripe's events find the membership by its subscription (and must find one).
            models.UniqueConstraint(
                fields=["stripe_subscription_id"],
                condition=~Q(stripe_subscription_id=""),
                name="billing_membership_subscription_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} for {self.client_id}: {self.status}"


class CreditGrant(models.Model):
    """Credits a client holds from one pack they bought; `remaining` goes down by one per
    booking and back up when a booking is cancelled in time."""

    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="credits")
    pack = models.ForeignKey(Pack, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(_("credits for"), max_length=8, choices=CreditKind.choices)
    granted = models.PositiveSmallIntegerField(_("granted"))
    remaining = models.IntegerField(_("remaining"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("credits")
        verbose_name_plural = _("credits")
        ordering = ("expires_at", "pk")
        constraints = [
            # The last word when bookings race for the last credits.
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=models.F("granted")),
                name="billing_credit_remaining_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.granted} {self.kind} for {self.client_id}"


class EntitlementUse(models.Model):
    """What one booking used: an allowance of a membership or one credit. `booking_ref`
    ("class:<id>" or "appointment:<id>") finds it again when the booking is cancelled; a
    returned use no longer counts."""

    booking_ref = models.CharField(max_length=40, unique=True)
    client = models.ForeignKey("crm.Client", on_delete=models.CASCADE, db_index=False)
    kind = models.CharField(max_length=8, choices=CreditKind.choices)
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, db_index=False
    )
    credit = models.ForeignKey(
        CreditGrant, on_delete=models.PROTECT, null=True, blank=True, db_index=False
    )
    # When the class or session starts: allowances count per week or month of that day.
    starts_at = models.DateTimeField()
    used_at = models.DateTimeField(auto_now_add=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("entitlement use")
        verbose_name_plural = _("entitlement uses")
        # Counting a membership's uses in a week or month.
        indexes = [models.Index(fields=["membership", "starts_at"], name="billing_use_membership")]
        constraints = [
            models.CheckConstraint(
                condition=Q(membership__isnull=True) | Q(credit__isnull=True),
                name="billing_use_one_source",
            ),
        ]

    def __str__(self) -> str:
        return self.booking_ref


class PaymentKind(models.TextChoices):
    CARD = "card", _("Card")
    OFFLINE_CASH = "offline_cash", _("Cash")
    OFFLINE_TRANSFER = "offline_transfer", _("Bank transfer")
    REFUND = "refund", _("Refund")
    FEE = "fee", _("Fee")


OFFLINE_KINDS = (PaymentKind.OFFLINE_CASH, PaymentKind.OFFLINE_TRANSFER)


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partly refunded")
    # A fee whose strike was waived before it was collected.
    WAIVED = "waived", _("Waived")


class SaleMethod(models.TextChoices):
    """How staff take the money for a sale: recorded by hand, charged to the card Stripe
    keeps for the client, or a hosted Checkout link sent to them."""

    OFFLINE_CASH = PaymentKind.OFFLINE_CASH.value, PaymentKind.OFFLINE_CASH.label
    OFFLINE_TRANSFER = PaymentKind.OFFLINE_TRANSFER.value, PaymentKind.OFFLINE_TRANSFER.label
    CARD_ON_FILE = "card_on_file", _("Card on file")
    CHECKOUT_LINK = "checkout_link", _("Checkout link (sent to the client)")


class Payment(models.Model):
    """One line of a client's ledger: money in (card, cash, transfer, fee) or out (refund,
    `refund_of` the payment it returns). Amounts are positive; the kind says the direction."""

    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(_("kind"), max_length=16, choices=PaymentKind.choices)
    amount = models.PositiveIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), **CURRENCY_FIELD)
    status = models.CharField(
        _("status"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.SUCCEEDED
    )
    refunded_amount = models.PositiveIntegerField(_("refunded"), default=0)
    description = models.CharField(_("description"), max_length=200, blank=True)
    membership = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    credit = models.ForeignKey(
        CreditGrant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    refund_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        db_index=False,
    )
    # The Stripe object this line mirrors (an invoice, charge or refund id): a webhook
    # delivered twice finds its line instead of writing a second one.
    stripe_id = models.CharField(max_length=64, blank=True)
    stripe_invoice_id = models.CharField(max_length=64, blank=True)
    stripe_charge_id = models.CharField(max_length=64, blank=True)
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    receipt_url = models.URLField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    # What else this line belongs to, for lines that are not a sale ("strike:<id>" for a
    # late-cancel or no-show fee): found again by it, under the lock of what it names.
    reference = models.CharField(max_length=40, blank=True)
    # The card Stripe charged (brand and last four), when a sale, a fee or a webhook told us:
    # the profile shows the client's card on file from it without asking Stripe.
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    paid_at = models.DateTimeField(_("date"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ("-paid_at", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=PaymentKind.values), name="billing_payment_kind"
            ),
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values), name="billing_payment_status"
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("amount")),
                name="billing_payment_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=1), name="billing_payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(kind=PaymentKind.REFUND) | Q(refund_of__isnull=False),
                name="billing_payment_refund_has_original",
            ),
            models.UniqueConstraint(
                fields=["stripe_id"], condition=~Q(stripe_id=""), name="billing_payment_stripe_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} for {self.client_id}"


field_error_for_constraint(
    "billing_credit_remaining_in_range",
    field="membership",
    message=_("No credits left."),
)
field_error_for_constraint(
    "billing_promo_one_discount",
    field="percent_off",
    message=_("Give either a percentage or an amount off, not both."),
)
field_error_for_constraint(
    "billing_plan_grant_count",
    field="grant_count",
    message=_("Say how many classes or sessions the plan grants (none for unlimited)."),
)
field_error_for_constraint(
    "billing_payment_refund_within_amount",
    field="amount",
    message=_("A refund cannot exceed what is left of the payment."),
)
field_error_for_constraint(
    "billing_promotioncode_code_key",
    field="code",
    message=_("This code exists already."),
)
# With these, every check and unique constraint of memberships, credits and payments is either
# a field's own validation or a field error when PostgreSQL refuses the write, so the services
# that write them (what Stripe's events tell us above all) validate fields only.
field_error_for_constraint(
    "billing_membership_period",
    field="current_period_end",
    message=_("The end must be on or after the start."),
)
field_error_for_constraint(
    "billing_membership_pause_dates",
    field="paused_until",
    message=_("The end must be on or after the start."),
)
field_error_for_constraint(
    "billing_membership_subscription_unique",
    field="stripe_subscription_id",
    message=_("This Stripe subscription has a membership already."),
)
field_error_for_constraint(
    "billing_payment_amount_positive",
    field="amount",
    message=_("Enter an amount above zero."),
)
field_error_for_constraint(
    "billing_payment_refund_has_original",
    field="refund_of",
    message=_("A refund must name the payment it returns."),
)
field_error_for_constraint(
    "billing_payment_stripe_id",
    field="stripe_id",
    message=_("This Stripe payment is in the ledger already."),
)
