"""Writes of billing: the catalogue, selling, memberships' life (change, pause, cancel, dunning),
refunds, what Stripe's webhooks tell us, and the entitlements a booking uses.

Every service checks the actor's right, writes its audit event in the same transaction and is
atomic. Money moves idempotently: offline payments through the API's Idempotency-Key, Stripe's
through the Stripe object's id (`Payment.stripe_id`, `Membership.stripe_subscription_id`).

Locks, where capacity or money is at stake, in one order (STYLE.md, "concurrency"): the spot
first (the class occurrence's row, or the appointment's exclusion constraint), then the
client's memberships by primary key, then their credit grants by primary key; a refund locks
the payment it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.roles import has_role, is_management
from apps.audit.services import audit_event, audit_insert_sql, audit_record, changes_between
from apps.automations.services import record_trigger
from apps.billing.models import (
    CURRENT_MEMBERSHIP_STATUSES,
    OFFLINE_KINDS,
    BillingSettings,
    CreditGrant,
    CreditKind,
    EntitlementUse,
    Grant,
    Interval,
    Membership,
    MembershipPlan,
    MembershipStatus,
    Pack,
    Payment,
    PaymentKind,
    PaymentStatus,
    PromotionCode,
    SaleMethod,
)
from apps.billing.selectors import (
    CATALOGUE_ROLES,
    MANAGING_ROLES,
    SELLING_ROLES,
    billing_settings,
    gym_currency,
    is_booking_blocked_by_dunning,
    refundable_amount,
)
from apps.core.constraints import as_field_error
from apps.core.services import check_fields_allowed, model_save, snapshot
from apps.crm.models import Client
from apps.tenants.selectors import current_gym, gym_today, gym_zone

PLAN_FIELDS = (
    "name",
    "description",
    "interval",
    "price",
    "joining_fee",
    "minimum_term",
    "grant",
    "grant_count",
    "class_type_ids",
    "trial_days",
    "trial_price",
    "stripe_product_id",
    "stripe_price_id",
)
PACK_FIELDS = (
    "name",
    "kind",
    "credits",
    "price",
    "expiry_days",
    "stripe_product_id",
    "stripe_price_id",
)
# The coupon id is ours to keep (catalogue_item_stripe_sync), never typed.
PROMOTION_FIELDS = ("code", "percent_off", "amount_off", "active")
SETTINGS_FIELDS = (
    "memberships_required",
    "drop_in_price",
    "drop_in_valid_days",
    "dunning_block_days",
    "dunning_suspend_days",
    "late_cancel_fee",
    "no_show_fee",
)
MEMBERSHIP_AUDIT_FIELDS = (
    "status",
    "current_period_start",
    "current_period_end",
    "paused_from",
    "paused_until",
    "cancel_at_period_end",
    "ended_on",
    "failed_attempts",
    "past_due_since",
)


def _save_fields_checked(instance: Any, *held: str) -> None:
    """Save a membership, credit grant or payment validating its fields only: each of their
    check and unique constraints is a field's own validation or becomes a field error when
    PostgreSQL refuses the write (apps.billing.models, apps.core.constraints), so validating
    them first would only cost a query each. `held`: foreign keys to rows the caller holds
    (no query to ask whether they exist). No savepoint of its own: every caller is an atomic
    service the error leaves, which rolls back to the service's own."""
    instance.full_clean(exclude=held, validate_constraints=False)
    try:
        instance.save()
    except IntegrityError as error:
        field_error = as_field_error(error)
        if field_error is None:
            raise
        raise field_error from error


def _stripe(call: Callable[[], Any]) -> Any:
    """Ask Stripe first, for a membership or payment Stripe manages: when Stripe refuses,
    nothing changes here (the webhook that follows confirms what Stripe did)."""
    import stripe

    from apps.billing import stripe_gateway

    try:
        return call()
    except stripe_gateway.StripeNotConnectedError as error:
        raise ValidationError(
            {"stripe": [_("This gym's Stripe account is not connected.")]}
        ) from error
    except stripe.StripeError as error:
        message = getattr(error, "user_message", None) or str(error)
        raise ValidationError(
            {"stripe": [_("Stripe refused: %(message)s") % {"message": message}]}
        ) from error


def _gateway() -> Any:
    from apps.billing import stripe_gateway

    return stripe_gateway


def _require(actor: Any, roles: tuple[str, ...], message: str) -> None:
    if not has_role(actor, *roles):
        raise PermissionDenied(message)


def _no_membership() -> ValidationError:
    return ValidationError(
        {
            "membership": ValidationError(
                _("No valid membership or credits for this booking."), code="no_membership"
            )
        }
    )


def period_end(start: date, interval: str) -> date:
    """The last day of the billing period starting on `start`."""
    step = {
        Interval.WEEK: relativedelta(weeks=1),
        Interval.MONTH: relativedelta(months=1),
        Interval.YEAR: relativedelta(years=1),
    }[Interval(interval)]
    return start + step - timedelta(days=1)


# --- Settings and catalogue ---------------------------------------------------------------------


@transaction.atomic
def billing_settings_update(*, actor: User, **fields: Any) -> BillingSettings:
    """Change the gym's billing settings (owners and managers); the drop-in pack follows the
    drop-in price and validity (`_drop_in_keep_in_step`)."""
    _require(actor, MANAGING_ROLES, _("Only owners and managers can change billing settings."))
    check_fields_allowed(fields, SETTINGS_FIELDS)
    current = BillingSettings.objects.select_for_update().first() or BillingSettings()
    before = snapshot(current, SETTINGS_FIELDS)
    for name, value in fields.items():
        setattr(current, name, value)
    model_save(current)
    changes = changes_between(before, snapshot(current, SETTINGS_FIELDS))
    if changes:
        audit_record(action="billing_settings.updated", actor=actor, obj=current, changes=changes)
    _drop_in_keep_in_step(actor=actor, settings_row=current)
    return current


# Stored untranslated: pages show Pack.display_name in the reader's language; Stripe's
# Product (the Checkout page, the receipt) carries this name.
DROP_IN_NAME = "Drop-in"


def _drop_in_keep_in_step(*, actor: User, settings_row: BillingSettings) -> Pack | None:
    """The gym's drop-in pack: one class credit at the drop-in price, valid the drop-in days.
    Called under the settings row's lock, which keeps it to one. A change before any sale edits
    it; once sold it is archived and replaced, so what clients bought stays as it was. No price:
    archived. Stripe follows as for any pack."""
    current = Pack.objects.select_for_update().filter(is_drop_in=True, archived_at__isnull=True)
    current = current.order_by("pk").first()
    price = settings_row.drop_in_price
    if price is None:
        if current is not None:
            _push_to_stripe(_catalogue_archive(current, "pack.archived", actor, MANAGING_ROLES))
        return None
    wanted = {
        "name": DROP_IN_NAME,
        "kind": CreditKind.CLASS,
        "credits": 1,
        "price": price,
        "expiry_days": settings_row.drop_in_valid_days,
    }
    if current is not None:
        if all(getattr(current, name) == value for name, value in wanted.items()):
            if not current.stripe_price_id:
                # Made before the gym took cards: saving the settings again puts it online.
                _push_to_stripe(current)
            return current
        # CreditGrant.pack has no index (a gym's grants are few); a settings change is rare.
        if not CreditGrant.objects.filter(pack=current).exists():
            item = _catalogue_update(
                current, "pack.updated", PACK_FIELDS, actor, wanted, MANAGING_ROLES
            )
            _push_to_stripe(item)
            return item
        _push_to_stripe(_catalogue_archive(current, "pack.archived", actor, MANAGING_ROLES))
    item = _catalogue_create(
        Pack,
        "pack.created",
        (*PACK_FIELDS, "is_drop_in"),
        actor,
        {**wanted, "is_drop_in": True},
        MANAGING_ROLES,
    )
    _push_to_stripe(item)
    return item


def _not_the_drop_in(pack: Pack) -> None:
    """The drop-in pack follows the billing settings only: editing or archiving it on its own
    would leave the settings selling a price nobody can buy."""
    if pack.is_drop_in:
        raise ValidationError(
            {
                "pack": _(
                    "The drop-in follows the drop-in price: change or clear it in the billing "
                    "settings."
                )
            }
        )


def _push_to_stripe(instance: Any) -> None:
    """Once committed, bring the plan or pack's Stripe Product and Price (a promotion code's
    Coupon) in step (a task: a page never waits on Stripe). Nothing to do for a gym that takes
    no cards."""
    from apps.billing.selectors import stripe_ready
    from apps.billing.tasks import push_catalogue_item

    if stripe_ready():
        label, pk = instance._meta.label_lower, instance.pk
        transaction.on_commit(lambda: push_catalogue_item.delay(label, pk))


def _catalogue_create(
    model: type,
    action: str,
    allowed: tuple[str, ...],
    actor: User,
    fields: dict[str, Any],
    roles: tuple[str, ...] = CATALOGUE_ROLES,
) -> Any:
    _require(actor, roles, _("Only the owner can change the catalogue."))
    check_fields_allowed(fields, allowed)
    instance = model(currency=gym_currency(), **fields)
    model_save(instance)
    audit_record(
        action=action,
        actor=actor,
        obj=instance,
        changes=changes_between({}, snapshot(instance, allowed)),
    )
    return instance


def _catalogue_update(
    instance: Any,
    action: str,
    allowed: tuple[str, ...],
    actor: User,
    fields: dict[str, Any],
    roles: tuple[str, ...] = CATALOGUE_ROLES,
) -> Any:
    _require(actor, roles, _("Only the owner can change the catalogue."))
    check_fields_allowed(fields, allowed)
    instance = type(instance).objects.select_for_update().get(pk=instance.pk)
    before = snapshot(instance, allowed)
    for name, value in fields.items():
        setattr(instance, name, value)
    model_save(instance)
    changes = changes_between(before, snapshot(instance, allowed))
    if changes:
        audit_record(action=action, actor=actor, obj=instance, changes=changes)
    return instance


def _catalogue_archive(
    instance: Any, action: str, actor: User, roles: tuple[str, ...] = CATALOGUE_ROLES
) -> Any:
    """Archived, never deleted: memberships, credits and payments point at it. `roles`: the
    drop-in pack is the billing settings' (owners and managers)."""
    _require(actor, roles, _("Only the owner can change the catalogue."))
    instance = type(instance).objects.select_for_update().get(pk=instance.pk)
    if instance.archived_at is None:
        instance.archived_at = timezone.now()
        instance.save(update_fields=["archived_at", "updated_at"])
        audit_record(
            action=action,
            actor=actor,
            obj=instance,
            changes={"archived_at": [None, instance.archived_at.isoformat()]},
        )
    return instance


@transaction.atomic
def plan_create(*, actor: User, **fields: Any) -> MembershipPlan:
    """A membership plan, priced in the gym's currency."""
    item = _catalogue_create(MembershipPlan, "membership_plan.created", PLAN_FIELDS, actor, fields)
    _push_to_stripe(item)
    return item


@transaction.atomic
def plan_update(*, actor: User, plan: MembershipPlan, **fields: Any) -> MembershipPlan:
    """Change a plan; memberships already sold keep their periods (the price applies from the
    next renewal)."""
    item = _catalogue_update(plan, "membership_plan.updated", PLAN_FIELDS, actor, fields)
    _push_to_stripe(item)
    return item


@transaction.atomic
def plan_archive(*, actor: User, plan: MembershipPlan) -> MembershipPlan:
    """No longer sold; memberships on it carry on."""
    item = _catalogue_archive(plan, "membership_plan.archived", actor)
    _push_to_stripe(item)
    return item


@transaction.atomic
def pack_create(*, actor: User, **fields: Any) -> Pack:
    item = _catalogue_create(Pack, "pack.created", PACK_FIELDS, actor, fields)
    _push_to_stripe(item)
    return item


@transaction.atomic
def pack_update(*, actor: User, pack: Pack, **fields: Any) -> Pack:
    """Change a pack; credits already sold keep their number and expiry."""
    _not_the_drop_in(pack)
    item = _catalogue_update(pack, "pack.updated", PACK_FIELDS, actor, fields)
    _push_to_stripe(item)
    return item


@transaction.atomic
def pack_archive(*, actor: User, pack: Pack) -> Pack:
    _not_the_drop_in(pack)
    item = _catalogue_archive(pack, "pack.archived", actor)
    _push_to_stripe(item)
    return item


@transaction.atomic
def promotion_code_create(*, actor: User, **fields: Any) -> PromotionCode:
    if isinstance(fields.get("code"), str):
        fields["code"] = fields["code"].strip().upper()
    item = _catalogue_create(
        PromotionCode, "promotion_code.created", PROMOTION_FIELDS, actor, fields
    )
    _push_to_stripe(item)
    return item


@transaction.atomic
def promotion_code_update(
    *, actor: User, promotion_code: PromotionCode, **fields: Any
) -> PromotionCode:
    """Change a code or (de)activate it; its Coupon follows (a new one for a new discount)."""
    if isinstance(fields.get("code"), str):
        fields["code"] = fields["code"].strip().upper()
    item = _catalogue_update(
        promotion_code, "promotion_code.updated", PROMOTION_FIELDS, actor, fields
    )
    _push_to_stripe(item)
    return item


def catalogue_item_stripe_sync(*, label: str, pk: int) -> None:
    """Push one plan or pack to Stripe (billing.stripe_gateway.catalogue_item_push) and keep
    the Product and Price ids it answers with; a promotion code, its Coupon. Run by a task,
    after the change committed."""
    if label == "billing.promotioncode":
        _promotion_code_stripe_sync(pk)
        return
    model = {"billing.membershipplan": MembershipPlan, "billing.pack": Pack}[label]
    with transaction.atomic():
        item = model.objects.select_for_update().get(pk=pk)
        interval = getattr(item, "interval", None)
        product_id, price_id = _stripe(
            lambda: _gateway().catalogue_item_push(
                gym=current_gym(),
                name=item.name,
                amount=item.price,
                currency=item.currency,
                interval=interval,
                product_id=item.stripe_product_id,
                price_id=item.stripe_price_id,
                active=item.archived_at is None,
                metadata={label.split(".")[1]: item.pk},
            )
        )
        if (product_id, price_id) != (item.stripe_product_id, item.stripe_price_id):
            before = snapshot(item, ("stripe_product_id", "stripe_price_id"))
            item.stripe_product_id, item.stripe_price_id = product_id, price_id
            item.save(update_fields=["stripe_product_id", "stripe_price_id", "updated_at"])
            audit_record(
                action=f"{label.split('.')[1]}.synced_to_stripe",
                obj=item,
                changes=changes_between(
                    before, snapshot(item, ("stripe_product_id", "stripe_price_id"))
                ),
            )


def _promotion_code_stripe_sync(pk: int) -> None:
    with transaction.atomic():
        code = PromotionCode.objects.select_for_update().get(pk=pk)
        coupon_id = _stripe(
            lambda: _gateway().coupon_push(
                gym=current_gym(),
                code=code.code,
                percent_off=code.percent_off,
                amount_off=code.amount_off,
                currency=code.currency,
                coupon_id=code.stripe_coupon_id,
                active=code.active,
            )
        )
        if coupon_id != code.stripe_coupon_id:
            before = code.stripe_coupon_id
            code.stripe_coupon_id = coupon_id
            code.save(update_fields=["stripe_coupon_id", "updated_at"])
            audit_record(
                action="promotion_code.synced_to_stripe",
                obj=code,
                changes={"stripe_coupon_id": [before, coupon_id]},
            )


def catalogue_push_on_connect(*, gym: Any, account_changed: bool) -> None:
    """A Stripe account was made `gym`'s (apps.connect, inside its transaction): once that
    commits, every plan, pack and active promotion code on sale is pushed to it, by the same
    task as any change. When the account or its mode is not the gym's previous one, the
    Stripe ids they hold belong elsewhere (Stripe would answer "No such price"): they are
    cleared first, so all is made again there. Archived plans and packs are left alone (what
    was sold keeps pointing at the account it was sold on)."""
    from django_tenants.utils import tenant_context

    from apps.billing.tasks import push_catalogue_item

    with tenant_context(gym):
        plans = MembershipPlan.objects.filter(archived_at__isnull=True)
        packs = Pack.objects.filter(archived_at__isnull=True)
        if account_changed:
            plans.update(stripe_product_id="", stripe_price_id="", updated_at=timezone.now())
            packs.update(stripe_product_id="", stripe_price_id="", updated_at=timezone.now())
            PromotionCode.objects.exclude(stripe_coupon_id="").update(
                stripe_coupon_id="", updated_at=timezone.now()
            )
        items = [
            *((MembershipPlan._meta.label_lower, pk) for pk in plans.values_list("pk", flat=True)),
            *((Pack._meta.label_lower, pk) for pk in packs.values_list("pk", flat=True)),
            *(
                (PromotionCode._meta.label_lower, pk)
                for pk in PromotionCode.objects.filter(active=True).values_list("pk", flat=True)
            ),
        ]

    def push() -> None:
        # Sent in the gym's schema: tenant_schemas_celery runs each task there.
        with tenant_context(gym):
            for label, pk in items:
                push_catalogue_item.delay(label, pk)

    transaction.on_commit(push)


def discounted(amount: int, promotion_code: PromotionCode | None) -> int:
    """`amount` less the code's discount (never below zero; percentages round down)."""
    if promotion_code is None:
        return amount
    if promotion_code.percent_off is not None:
        return amount - amount * promotion_code.percent_off // 100
    return max(0, amount - (promotion_code.amount_off or 0))


# --- Selling ------------------------------------------------------------------------------------


def _check_payment_kind(payment_kind: str) -> None:
    if payment_kind not in OFFLINE_KINDS:
        raise ValidationError(
            {"payment_kind": [_("Record cash or a bank transfer; cards go through Stripe.")]}
        )


def _record_payment(
    *,
    actor: User | None,
    client: Client,
    kind: str,
    amount: int,
    description: str,
    membership: Membership | None = None,
    credit: CreditGrant | None = None,
    paid_at: datetime | None = None,
    **extra: Any,
) -> Payment:
    payment = Payment(
        client=client,
        kind=kind,
        amount=amount,
        currency=gym_currency(),
        description=description[:200],
        membership=membership,
        credit=credit,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        paid_at=paid_at or timezone.now(),
        **extra,
    )
    _save_fields_checked(payment, "client", "membership", "credit", "refund_of", "recorded_by")
    audit_record(
        action="payment.recorded",
        actor=actor,
        obj=payment,
        changes={
            "client": [None, client.pk],
            "kind": [None, kind],
            "amount": [None, amount],
            "currency": [None, payment.currency],
            "status": [None, payment.status],
        },
    )
    return payment


def _current_membership(client: Client) -> Membership | None:
    return (
        Membership.objects.select_for_update()
        .filter(
            client=client,
            status__in=(
                MembershipStatus.TRIALING,
                MembershipStatus.ACTIVE,
                MembershipStatus.PAST_DUE,
                MembershipStatus.PAUSED,
            ),
        )
        .order_by("pk")
        .first()
    )


@transaction.atomic
def membership_sell(
    *,
    actor: User,
    client: Client,
    plan: MembershipPlan,
    payment_kind: str,
    starts_on: date | None = None,
    promotion_code: PromotionCode | None = None,
) -> Membership:
    """Sell a plan with an offline payment (cash or transfer) for the first period (the trial
    price during a trial) plus the joining fee. A client has one current membership: change
    it rather than sell a second."""
    _require(actor, SELLING_ROLES, _("You cannot sell memberships."))
    _check_payment_kind(payment_kind)
    if plan.archived_at is not None:
        raise ValidationError({"plan": [_("This plan is no longer sold.")]})
    if promotion_code is not None and not promotion_code.active:
        raise ValidationError({"promotion_code": [_("This code is no longer valid.")]})
    if _current_membership(client) is not None:
        raise ValidationError(
            {"plan": [_("This client already has a membership: change or cancel it.")]}
        )
    start = starts_on or gym_today()
    if plan.trial_days:
        status = MembershipStatus.TRIALING
        end = start + timedelta(days=plan.trial_days - 1)
        first = plan.trial_price
    else:
        status = MembershipStatus.ACTIVE
        end = period_end(start, plan.interval)
        first = discounted(plan.price, promotion_code)
    membership = Membership(
        client=client,
        plan=plan,
        status=status,
        started_on=start,
        current_period_start=start,
        current_period_end=end,
    )
    model_save(membership)
    audit_record(
        action="membership.sold",
        actor=actor,
        obj=membership,
        changes={
            "client": [None, client.pk],
            "plan": [None, plan.pk],
            "status": [None, status],
            "promotion_code": [None, promotion_code.code if promotion_code else None],
        },
    )
    amount = first + plan.joining_fee
    if amount:
        _record_payment(
            actor=actor,
            client=client,
            kind=payment_kind,
            amount=amount,
            description=plan.name,
            membership=membership,
        )
    return membership


@transaction.atomic
def pack_sell(
    *,
    actor: User,
    client: Client,
    pack: Pack,
    payment_kind: str,
    promotion_code: PromotionCode | None = None,
    payment_extra: dict[str, Any] | None = None,
    charged: int | None = None,
) -> CreditGrant:
    """Sell a class or session pack: its credits now, expiring `expiry_days` later. Card
    sales come through `pack_grant_from_stripe`."""
    if payment_extra is None:
        # Sold at the desk; a card sale comes from Stripe's webhook (pack_grant_from_stripe).
        _require(actor, SELLING_ROLES, _("You cannot sell packs."))
        _check_payment_kind(payment_kind)
    if pack.archived_at is not None:
        raise ValidationError({"pack": [_("This pack is no longer sold.")]})
    now = timezone.now()
    credit = CreditGrant(
        client=client,
        pack=pack,
        kind=pack.kind,
        granted=pack.credits,
        remaining=pack.credits,
        expires_at=now + timedelta(days=pack.expiry_days) if pack.expiry_days else None,
    )
    _save_fields_checked(credit, "client", "pack")
    audit_record(
        action="credits.granted",
        actor=actor,
        obj=credit,
        changes={
            "client": [None, client.pk],
            "pack": [None, pack.pk],
            "granted": [None, pack.credits],
        },
    )
    amount = discounted(pack.price, promotion_code) if charged is None else charged
    if amount:
        _record_payment(
            actor=actor,
            client=client,
            kind=payment_kind,
            amount=amount,
            description=pack.name,
            credit=credit,
            **(payment_extra or {}),
        )
    return credit


@transaction.atomic
def pack_grant_from_stripe(
    *,
    client: Client,
    pack: Pack,
    stripe_id: str,
    amount: int | None = None,
    actor: User | None = None,
    stripe_charge_id: str = "",
    card: dict[str, str] | None = None,
) -> CreditGrant | None:
    """A pack paid through Stripe (Checkout, or the card on file at the desk): its credits
    and its card payment line, once per `stripe_id` (the payment intent); delivered again,
    nothing more (None)."""
    if Payment.objects.select_for_update().filter(stripe_id=stripe_id).exists():
        return None
    credit = pack_sell(
        actor=actor,
        client=client,
        pack=pack,
        payment_kind=PaymentKind.CARD,
        payment_extra={
            "stripe_id": stripe_id,
            "stripe_charge_id": stripe_charge_id,
            **_card_fields(card),
        },
        charged=amount,
    )
    return credit


@transaction.atomic
def payment_record_offline(
    *, actor: User, client: Client, kind: str, amount: int, description: str = ""
) -> Payment:
    """Cash or a bank transfer taken at the desk for something not sold here (a drop-in)."""
    _require(actor, SELLING_ROLES, _("You cannot record payments."))
    if kind not in (*OFFLINE_KINDS, PaymentKind.FEE):
        raise ValidationError({"kind": [_("Record cash, a bank transfer or a fee.")]})
    if amount < 1:
        raise ValidationError({"amount": [_("Enter an amount above zero.")]})
    return _record_payment(
        actor=actor, client=client, kind=kind, amount=amount, description=description
    )


# --- A membership's life ------------------------------------------------------------------------


def _membership_locked(membership: Membership) -> Membership:
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("plan", "client")
        .get(pk=membership.pk)
    )


def _audit_membership(
    action: str, actor: User | None, membership: Membership, before: dict[str, Any], **extra: Any
) -> None:
    changes = changes_between(before, snapshot(membership, MEMBERSHIP_AUDIT_FIELDS))
    changes.update({key: {"before": None, "after": value} for key, value in extra.items()})
    audit_record(action=action, actor=actor, obj=membership, changes=changes)


@transaction.atomic
def membership_change(
    *, actor: User, membership: Membership, plan: MembershipPlan, payment_kind: str = ""
) -> Membership:
    """Move to another plan now. The rest of the current period is prorated by day: the
    difference between the new and the old plan's price for the days left, recorded as an
    offline payment when the client owes it (the ledger's description says so), or in the
    audit event as what they are owed."""
    _require(actor, MANAGING_ROLES, _("Only owners and managers can change memberships."))
    if plan.archived_at is not None:
        raise ValidationError({"plan": [_("This plan is no longer sold.")]})
    membership = _membership_locked(membership)
    if membership.status not in (MembershipStatus.ACTIVE, MembershipStatus.TRIALING):
        raise ValidationError({"status": [_("Only an active membership can change plan.")]})
    if plan.pk == membership.plan_id:
        raise ValidationError({"plan": [_("The client is on this plan already.")]})
    today = gym_today()
    old_plan = membership.plan
    days = (membership.current_period_end - membership.current_period_start).days + 1
    left = max(0, (membership.current_period_end - today).days + 1)

    def share(price: int) -> int:
        return price * left // days if days else 0

    proration = (
        0
        if membership.status == MembershipStatus.TRIALING
        else share(plan.price) - share(old_plan.price)
    )
    if membership.stripe_subscription_id:
        if not plan.stripe_price_id:
            raise ValidationError({"plan": [_("This plan is not on sale through Stripe yet.")]})
        # Stripe prorates and invoices the card; its invoice reaches the ledger by webhook.
        _stripe(
            lambda: _gateway().subscription_change_price(
                gym=current_gym(),
                subscription_id=membership.stripe_subscription_id,
                price_id=plan.stripe_price_id,
            )
        )
        proration = 0
    before = snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
    membership.plan = plan
    model_save(membership)
    _audit_membership(
        "membership.changed",
        actor,
        membership,
        before,
        plan=[old_plan.pk, plan.pk],
        proration=proration,
    )
    if proration > 0:
        _check_payment_kind(payment_kind)
        _record_payment(
            actor=actor,
            client=membership.client,
            kind=payment_kind,
            amount=proration,
            description=_("Plan change: %(old)s to %(new)s (prorated)")
            % {"old": old_plan.name, "new": plan.name},
            membership=membership,
        )
    return membership


@transaction.atomic
def membership_pause(
    *, actor: User, membership: Membership, paused_from: date, paused_until: date
) -> Membership:
    """Freeze a membership between two days: it books nothing then, and its period ends that
    many days later. Stripe's `pause_collection` follows through part 1's gateway."""
    _require(actor, MANAGING_ROLES, _("Only owners and managers can pause memberships."))
    if paused_until < paused_from:
        raise ValidationError({"paused_until": [_("The end must be on or after the start.")]})
    membership = _membership_locked(membership)
    if membership.status not in (MembershipStatus.ACTIVE, MembershipStatus.TRIALING):
        raise ValidationError({"status": [_("Only an active membership can be paused.")]})
    if membership.stripe_subscription_id:
        resumes = datetime.combine(paused_until + timedelta(days=1), time.min, tzinfo=gym_zone())
        _stripe(
            lambda: _gateway().subscription_pause(
                gym=current_gym(),
                subscription_id=membership.stripe_subscription_id,
                resumes_at=int(resumes.timestamp()),
            )
        )
    before = snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
    membership.paused_from = paused_from
    membership.paused_until = paused_until
    if paused_from <= gym_today():
        membership.status = MembershipStatus.PAUSED
    membership.current_period_end += timedelta(days=(paused_until - paused_from).days + 1)
    model_save(membership)
    _audit_membership("membership.paused", actor, membership, before)
    return membership


@transaction.atomic
def membership_resume(*, actor: User, membership: Membership) -> Membership:
    """End a pause now; the days not used come off the extension."""
    _require(actor, MANAGING_ROLES, _("Only owners and managers can resume memberships."))
    membership = _membership_locked(membership)
    if membership.paused_from is None:
        raise ValidationError({"status": [_("This membership is not paused.")]})
    if membership.stripe_subscription_id:
        _stripe(
            lambda: _gateway().subscription_resume(
                gym=current_gym(), subscription_id=membership.stripe_subscription_id
            )
        )
    before = snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
    today = gym_today()
    if membership.paused_until and membership.paused_until > today:
        unused = (membership.paused_until - max(today, membership.paused_from)).days
        if membership.paused_from > today:
            unused += 1
        membership.current_period_end = max(
            membership.current_period_start, membership.current_period_end - timedelta(days=unused)
        )
    membership.paused_from = None
    membership.paused_until = None
    if membership.status == MembershipStatus.PAUSED:
        membership.status = MembershipStatus.ACTIVE
    model_save(membership)
    _audit_membership("membership.resumed", actor, membership, before)
    return membership


def minimum_term_ends(membership: Membership) -> date:
    """The first day the client may leave without the manager's override."""
    step = {
        Interval.WEEK: relativedelta(weeks=1),
        Interval.MONTH: relativedelta(months=1),
        Interval.YEAR: relativedelta(years=1),
    }[Interval(membership.plan.interval)]
    return membership.started_on + step * membership.plan.minimum_term


@transaction.atomic
def membership_cancel(
    *,
    actor: User,
    membership: Membership,
    at_period_end: bool = True,
    override_minimum_term: bool = False,
) -> Membership:
    """Cancel now or at the end of the current period. Inside the plan's minimum term only
    with a manager's override."""
    _require(actor, MANAGING_ROLES, _("Only owners and managers can cancel memberships."))
    if override_minimum_term and not is_management(actor):
        raise PermissionDenied(_("Only owners and managers can override the minimum term."))
    membership = _membership_locked(membership)
    if membership.status in (MembershipStatus.CANCELLED, MembershipStatus.EXPIRED):
        raise ValidationError({"status": [_("This membership has ended already.")]})
    today = gym_today()
    ends = membership.current_period_end if at_period_end else today
    if ends < minimum_term_ends(membership) - timedelta(days=1) and not override_minimum_term:
        raise ValidationError(
            {
                "membership": ValidationError(
                    _("The minimum term runs until %(day)s.")
                    % {"day": minimum_term_ends(membership).isoformat()},
                    code="minimum_term",
                )
            }
        )
    if membership.stripe_subscription_id:
        _stripe(
            lambda: _gateway().subscription_cancel(
                gym=current_gym(),
                subscription_id=membership.stripe_subscription_id,
                at_period_end=at_period_end,
            )
        )
    before = snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
    if at_period_end:
        membership.cancel_at_period_end = True
    else:
        membership.status = MembershipStatus.CANCELLED
        membership.ended_on = today
        membership.current_period_end = max(membership.current_period_start, today)
    model_save(membership)
    _audit_membership(
        "membership.cancelled",
        actor,
        membership,
        before,
        at_period_end=at_period_end,
        override_minimum_term=override_minimum_term,
    )
    record_trigger(
        "membership_cancelled", client_id=membership.client_id, key=f"membership:{membership.pk}"
    )
    return membership


# --- Dunning ------------------------------------------------------------------------------------


@transaction.atomic
def membership_mark_past_due(
    *, membership: Membership, actor: User | None = None, failed_at: datetime | None = None
) -> Membership:
    """A renewal failed: past due from the first failure on (a retry that fails again only
    counts the attempt). Booking stays open for the gym's grace days."""
    membership = _membership_locked(membership)
    before = snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
    membership.failed_attempts += 1
    became_past_due = membership.status in (MembershipStatus.ACTIVE, MembershipStatus.TRIALING)
    if became_past_due:
        membership.status = MembershipStatus.PAST_DUE
        membership.past_due_since = failed_at or timezone.now()
    _save_fields_checked(membership, "client", "plan")
    _audit_membership("membership.past_due", actor, membership, before)
    if became_past_due:
        _email_payment_failed(membership)
        since = membership.past_due_since.isoformat() if membership.past_due_since else ""
        record_trigger(
            "payment_failed", client_id=membership.client_id, key=f"payment:{membership.pk}:{since}"
        )
    return membership


def _email_payment_failed(membership: Membership) -> None:
    """Tell the client once per failure episode, at its first failure, where to update their
    card (the portal's memberships page, which opens Stripe's Customer Portal). Recorded in
    this transaction, sent after it commits: a rolled-back change sends nothing."""
    from apps.notifications.selectors import client_channels
    from apps.notifications.services import notify

    client = membership.client
    since = membership.past_due_since.isoformat() if membership.past_due_since else ""
    notify(
        kind="payment_failed",
        recipient=client,
        context={"plan": membership.plan.name},
        event_key=f"payment_failed:{membership.pk}:{since}",
        url=reverse("portal:memberships"),
        channels=client_channels(client),
    )


@transaction.atomic
def membership_recovered(*, membership: Membership, actor: User | None = None) -> Membership:
    """A payment came through: a past-due or suspended membership is active again at once."""
    membership = _membership_locked(membership)
    if membership.status not in (MembershipStatus.PAST_DUE, MembershipStatus.SUSPENDED):
        return membership
    before = snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
    membership.status = MembershipStatus.ACTIVE
    membership.failed_attempts = 0
    membership.past_due_since = None
    _save_fields_checked(membership, "client", "plan")
    _audit_membership("membership.recovered", actor, membership, before)
    return membership


@transaction.atomic
def dunning_run(*, now: datetime | None = None) -> dict[str, int]:
    """The daily step: suspend memberships past due longer than the gym's limit, end those
    set to cancel whose period is over, and start or end pauses whose day has come. Returns
    how many of each changed (each one audited)."""
    now = now or timezone.now()
    today = now.astimezone(gym_zone()).date()
    limit = billing_settings().dunning_suspend_days
    counts = {"suspended": 0, "ended": 0, "paused": 0, "resumed": 0}
    overdue = Membership.objects.select_for_update().filter(
        status=MembershipStatus.PAST_DUE, past_due_since__lte=now - timedelta(days=limit)
    )
    for membership in overdue.order_by("pk"):
        before = snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
        membership.status = MembershipStatus.SUSPENDED
        membership.save(update_fields=["status", "updated_at"])
        _audit_membership("membership.suspended", None, membership, before)
        counts["suspended"] += 1
    ending = Membership.objects.select_for_update().filter(
        cancel_at_period_end=True,
        current_period_end__lt=today,
        status__in=(MembershipStatus.ACTIVE, MembershipStatus.TRIALING, MembershipStatus.PAST_DUE),
    )
    for membership in ending.order_by("pk"):
        before = snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
        membership.status = MembershipStatus.CANCELLED
        membership.ended_on = membership.current_period_end
        membership.save(update_fields=["status", "ended_on", "updated_at"])
        _audit_membership("membership.ended", None, membership, before)
        counts["ended"] += 1
    starting = Membership.objects.select_for_update().filter(
        status=MembershipStatus.ACTIVE, paused_from__lte=today, paused_until__gte=today
    )
    for membership in starting.order_by("pk"):
        before = snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
        membership.status = MembershipStatus.PAUSED
        membership.save(update_fields=["status", "updated_at"])
        _audit_membership("membership.paused", None, membership, before)
        counts["paused"] += 1
    finished = Membership.objects.select_for_update().filter(
        status=MembershipStatus.PAUSED, paused_until__lt=today
    )
    for membership in finished.order_by("pk"):
        before = snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
        membership.status = MembershipStatus.ACTIVE
        membership.paused_from = membership.paused_until = None
        membership.save(update_fields=["status", "paused_from", "paused_until", "updated_at"])
        _audit_membership("membership.resumed", None, membership, before)
        counts["resumed"] += 1
    return counts


# --- Refunds ------------------------------------------------------------------------------------


def _refund_mark_original(*, payment: Payment, amount: int, actor: User | None = None) -> Payment:
    """Count `amount` as refunded on the payment it returns (locked: two refunds at once must
    not return more than was paid)."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    left = refundable_amount(payment)
    if amount < 1 or amount > left:
        raise ValidationError(
            {"amount": [_("Refund between 1 and %(left)s (minor units).") % {"left": left}]}
        )
    before = {"refunded_amount": payment.refunded_amount, "status": payment.status}
    payment.refunded_amount += amount
    payment.status = (
        PaymentStatus.REFUNDED
        if payment.refunded_amount == payment.amount
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    payment.save(update_fields=["refunded_amount", "status"])
    audit_record(
        action="payment.refunded",
        actor=actor,
        obj=payment,
        changes=changes_between(
            before, {"refunded_amount": payment.refunded_amount, "status": payment.status}
        ),
    )
    return payment


@transaction.atomic
def payment_refund(
    *,
    actor: User,
    payment: Payment,
    reason: str,
    amount: int | None = None,
    stripe_refund_id: str = "",
) -> Payment:
    """Refund all (`amount` None) or part of a payment, with a reason: a refund line in the
    ledger and the payment marked (partly) refunded. Owners and managers only. For a card
    payment, part 1's gateway makes the Stripe refund and passes its id, so the webhook
    reporting it later finds this line."""
    _require(actor, MANAGING_ROLES, _("Only owners and managers can refund."))
    return _payment_refund(
        actor=actor,
        payment=payment,
        reason=reason,
        amount=amount,
        stripe_refund_id=stripe_refund_id,
    )


@transaction.atomic
def _payment_refund(
    *,
    actor: User | None,
    payment: Payment,
    reason: str,
    amount: int | None = None,
    stripe_refund_id: str = "",
) -> Payment:
    """payment_refund once the actor's right is checked (or for billing itself: a waived
    strike's fee)."""
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the money is refunded.")]})
    # Locked: two refunds of one payment at once must not return more than was paid.
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.kind == PaymentKind.REFUND or payment.status not in (
        PaymentStatus.SUCCEEDED,
        PaymentStatus.PARTIALLY_REFUNDED,
    ):
        raise ValidationError({"payment": [_("Only a received payment can be refunded.")]})
    amount = refundable_amount(payment) if amount is None else amount
    already = payment.refunded_amount
    payment = _refund_mark_original(payment=payment, amount=amount, actor=actor)
    # A card payment, or a fee charged to the card on file (a fee taken in cash has no id).
    charged_by_stripe = payment.kind == PaymentKind.CARD or (
        payment.kind == PaymentKind.FEE and bool(payment.stripe_id or payment.stripe_charge_id)
    )
    if charged_by_stripe and not stripe_refund_id:
        # The card is refunded by Stripe first; the key makes a retry after a timeout the
        # same refund (this payment, this much already refunded, this amount).
        intent = payment.stripe_id if payment.stripe_id.startswith("pi_") else ""
        if not (payment.stripe_charge_id or intent):
            raise ValidationError({"payment": [_("Stripe does not know this card payment.")]})
        refund = _stripe(
            lambda: _gateway().refund_create(
                gym=current_gym(),
                charge_id=payment.stripe_charge_id,
                payment_intent_id="" if payment.stripe_charge_id else intent,
                amount=amount,
                idempotency_key=f"refund-{payment.pk}-{already}-{amount}",
                metadata={"payment": payment.pk, "reason": reason.strip()[:200]},
            )
        )
        stripe_refund_id = refund["id"]
    return _record_payment(
        actor=actor,
        client=payment.client,
        kind=PaymentKind.REFUND,
        amount=amount,
        description=_("Refund: %(what)s") % {"what": payment.description},
        refund_of=payment,
        reason=reason.strip()[:200],
        stripe_id=stripe_refund_id,
    )


# --- What Stripe tells us (called by part 1's webhook processing) ------------------------------

_STRIPE_STATUSES = {
    "trialing": MembershipStatus.TRIALING,
    "active": MembershipStatus.ACTIVE,
    "past_due": MembershipStatus.PAST_DUE,
    "unpaid": MembershipStatus.SUSPENDED,
    "paused": MembershipStatus.PAUSED,
    "canceled": MembershipStatus.CANCELLED,
    "incomplete_expired": MembershipStatus.EXPIRED,
    "incomplete": MembershipStatus.PAST_DUE,
}


def _stripe_day(timestamp: int | None) -> date | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, tz=gym_zone()).date()


def _plan_of_subscription(
    membership: Membership | None, price_id: str, plan: MembershipPlan | None, plan_id: int | None
) -> MembershipPlan | None:
    # The subscription's price says the plan (it changes with a plan change; our metadata
    # keeps the plan it was sold on); the plan named otherwise only when no plan has the
    # price. The membership's own plan is asked about first: usually nothing changed.
    if membership is not None and price_id and membership.plan.stripe_price_id == price_id:
        return membership.plan
    if price_id:
        by_price = MembershipPlan.objects.filter(stripe_price_id=price_id).first()
        if by_price is not None:
            return by_price
    if plan is None and plan_id is not None:
        plan = MembershipPlan.objects.filter(pk=plan_id).first()
    return plan


# No savepoint: its callers (a webhook's transaction, a card sale's) fail as a whole.
@transaction.atomic(savepoint=False)
def membership_sync_from_stripe(
    *,
    subscription: dict[str, Any],
    client: Client | None = None,
    plan: MembershipPlan | None = None,
    client_id: int | None = None,
    plan_id: int | None = None,
) -> Membership:
    """Make the membership match a Stripe subscription object as it is now (not as the event
    said it was: events come twice and out of order). Found by the subscription's id; made
    when first seen, which needs the client (passed, or its id: `client_id`, else metadata
    `client_id`) and the plan (by its Stripe price, else passed or `plan_id`). Idempotent."""
    subscription_id = subscription["id"]
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("plan")
        .filter(stripe_subscription_id=subscription_id)
        .first()
    )
    items = (subscription.get("items") or {}).get("data") or []
    price_id = items[0]["price"]["id"] if items and items[0].get("price") else ""
    plan = _plan_of_subscription(membership, price_id, plan, plan_id)
    status = _STRIPE_STATUSES.get(subscription.get("status", ""), MembershipStatus.ACTIVE)
    if subscription.get("pause_collection") and status == MembershipStatus.ACTIVE:
        status = MembershipStatus.PAUSED
    start = _stripe_day(subscription.get("current_period_start")) or gym_today()
    end = _stripe_day(subscription.get("current_period_end")) or start
    if membership is None:
        metadata = subscription.get("metadata") or {}
        client_id = client_id or metadata.get("client_id")
        if client is None and client_id:
            client = Client.objects.filter(pk=client_id).first()
        if client is None or plan is None:
            raise ValidationError(
                {"subscription": [_("The subscription names no client or plan of this gym.")]}
            )
        membership = Membership(
            client=client,
            plan=plan,
            started_on=_stripe_day(subscription.get("start_date")) or start,
            stripe_subscription_id=subscription_id,
            status=status,
            current_period_start=start,
            current_period_end=max(start, end),
        )
        before: dict[str, Any] = {}
        action = "membership.created_from_stripe"
    else:
        before = snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
        action = "membership.synced_from_stripe"
        if plan is not None:
            membership.plan = plan
    if status == MembershipStatus.PAST_DUE and membership.status != MembershipStatus.PAST_DUE:
        membership.past_due_since = membership.past_due_since or timezone.now()
    if status in (MembershipStatus.ACTIVE, MembershipStatus.TRIALING):
        membership.past_due_since = None
        membership.failed_attempts = 0
    membership.status = status
    membership.current_period_start = start
    membership.current_period_end = max(start, end)
    membership.cancel_at_period_end = bool(subscription.get("cancel_at_period_end"))
    if status in (MembershipStatus.CANCELLED, MembershipStatus.EXPIRED):
        membership.ended_on = _stripe_day(subscription.get("ended_at")) or gym_today()
    _save_fields_checked(membership, "client", "plan")
    after = snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
    changes = changes_between(before, after)
    if changes or not before:
        audit_record(action=action, actor=None, obj=membership, changes=changes)
    if membership.cancel_at_period_end or status in (
        MembershipStatus.CANCELLED,
        MembershipStatus.EXPIRED,
    ):
        # Cancelled in Stripe's Customer Portal: the same occurrence as a cancel at the desk.
        record_trigger(
            "membership_cancelled",
            client_id=membership.client_id,
            key=f"membership:{membership.pk}",
        )
    return membership


# No savepoint: its callers (a webhook's transaction, a card sale's) fail as a whole.
@transaction.atomic(savepoint=False)
def payment_record_from_stripe(
    *,
    stripe_id: str,
    client: Client,
    amount: int,
    currency: str,
    status: str = PaymentStatus.SUCCEEDED,
    kind: str = PaymentKind.CARD,
    description: str = "",
    paid_at: datetime | None = None,
    stripe_invoice_id: str = "",
    stripe_charge_id: str = "",
    hosted_invoice_url: str = "",
    receipt_url: str = "",
    membership: Membership | None = None,
    refund_of: Payment | None = None,
    failed_attempts: int = 0,
) -> Payment:
    """The ledger line for a Stripe invoice, charge or refund, written once per `stripe_id`;
    delivered again, the line is brought up to date (a failed invoice later paid). A paid
    invoice of a past-due membership restores it at once; a failed one marks it past due."""
    if not stripe_id:
        raise ValidationError({"stripe_id": [_("A Stripe payment needs its id.")]})
    existing = Payment.objects.select_for_update().filter(stripe_id=stripe_id).first()
    if existing is None and refund_of is not None:
        _refund_mark_original(payment=refund_of, amount=amount)
    if existing is None:
        payment = _record_payment(
            actor=None,
            client=client,
            kind=kind,
            amount=amount,
            description=description,
            membership=membership,
            paid_at=paid_at,
            status=status,
            stripe_id=stripe_id,
            stripe_invoice_id=stripe_invoice_id,
            stripe_charge_id=stripe_charge_id,
            hosted_invoice_url=hosted_invoice_url,
            receipt_url=receipt_url,
            refund_of=refund_of,
            failed_attempts=failed_attempts,
        )
        changed = True
    else:
        payment = existing
        before = snapshot(
            payment, ("status", "receipt_url", "hosted_invoice_url", "failed_attempts")
        )
        # A payment that succeeded never goes back to failed (an older event arriving late).
        if not (
            payment.status
            in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED)
            and status in (PaymentStatus.FAILED, PaymentStatus.PENDING)
        ):
            payment.status = status if payment.refunded_amount == 0 else payment.status
        payment.receipt_url = receipt_url or payment.receipt_url
        payment.hosted_invoice_url = hosted_invoice_url or payment.hosted_invoice_url
        payment.failed_attempts = max(payment.failed_attempts, failed_attempts)
        changes = changes_between(
            before,
            snapshot(payment, ("status", "receipt_url", "hosted_invoice_url", "failed_attempts")),
        )
        changed = bool(changes)
        if changed:
            payment.save()
            audit_record(
                action="payment.synced_from_stripe", actor=None, obj=payment, changes=changes
            )
    if membership is not None and changed:
        if payment.status == PaymentStatus.SUCCEEDED:
            membership_recovered(membership=membership)
        elif payment.status == PaymentStatus.FAILED:
            membership_mark_past_due(membership=membership)
    return payment


# --- Selling with Stripe: the card on file, or a Checkout link ----------------------------------


@dataclass(frozen=True)
class Sale:
    """What a sale at the desk gave: a membership or credits at once, or the Checkout link
    sent to the client (the webhook completes that sale once they pay)."""

    membership: Membership | None = None
    credit: CreditGrant | None = None
    checkout_url: str = ""


def _card_fields(card: dict[str, str] | None) -> dict[str, str]:
    """A payment's card columns from a card's details (as the gateway gives them)."""
    if not card:
        return {}
    return {"card_brand": card.get("brand", "")[:20], "card_last4": card.get("last4", "")[:4]}


@transaction.atomic
def payment_card_learn(*, stripe_id: str, card: dict[str, str]) -> int:
    """Stripe told us which card paid (a webhook about a Checkout payment): kept on its
    ledger line, for the profile's "card on file". Lines updated (0 or 1)."""
    fields = _card_fields(card)
    if not fields.get("card_last4"):
        return 0
    return Payment.objects.filter(stripe_id=stripe_id, card_last4="").update(**fields)


def _payment_kind_error(message: str, code: str) -> ValidationError:
    return ValidationError({"payment_kind": [ValidationError(message, code=code)]})


def _send_link_instead(code: str) -> ValidationError:
    messages = {
        "no_card": _("This client has no card on file: send a Checkout link instead."),
        "authentication_required": _(
            "The client's bank wants them to confirm this payment: send a Checkout link instead."
        ),
        "not_connected": _("This gym's Stripe account is not connected."),
    }
    return _payment_kind_error(messages[code], code)


def _charge_error(call: Callable[[], Any]) -> Any:
    """Call Stripe for a sale or a fee; a refusal is a ValidationError naming `payment_kind`
    (a decline says Stripe's own words), so nothing is written after it."""
    import stripe

    from apps.billing import stripe_gateway

    try:
        return call()
    except stripe_gateway.StripeNotConnectedError as error:
        raise _send_link_instead("not_connected") from error
    except stripe.CardError as error:
        if getattr(error, "code", "") == "authentication_required":
            intent = ((error.json_body or {}).get("error") or {}).get("payment_intent") or {}
            if intent.get("id"):
                _stripe_quietly(
                    lambda: _gateway().payment_intent_cancel(
                        gym=current_gym(), payment_intent_id=intent["id"]
                    )
                )
            raise _send_link_instead("authentication_required") from error
        message = getattr(error, "user_message", None) or str(error)
        raise _payment_kind_error(message, "card_declined") from error
    except stripe.StripeError as error:
        message = getattr(error, "user_message", None) or str(error)
        raise _payment_kind_error(
            _("Stripe refused: %(message)s") % {"message": message}, "stripe"
        ) from error


def _stripe_quietly(call: Callable[[], Any]) -> None:
    # Tidying up after a refusal: the refusal is what the desk must see, not this.
    import contextlib

    import stripe

    with contextlib.suppress(stripe.StripeError):
        call()


def card_on_file(*, client: Client) -> dict[str, str]:
    """The card Stripe keeps for the client (its id, brand and last four), asked of Stripe;
    none is a ValidationError naming `payment_kind` that says to send a Checkout link."""
    from apps.billing.selectors import stripe_ready

    if not stripe_ready():
        raise _send_link_instead("not_connected")
    card = _charge_error(lambda: _gateway().customer_card_on_file(gym=current_gym(), client=client))
    if not card or not card.get("id"):
        raise _send_link_instead("no_card")
    return card


def _charge_card_on_file(
    *, card: dict[str, str], amount: int, key: str, description: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    """Charge the card now, the client not present. A card that needs the client to
    authenticate (3-D Secure) is not charged: the intent is cancelled."""
    intent = _charge_error(
        lambda: _gateway().payment_intent_off_session(
            gym=current_gym(),
            customer_id=card["customer"],
            payment_method_id=card["id"],
            amount=amount,
            currency=gym_currency(),
            idempotency_key=key,
            description=description,
            metadata=metadata,
        )
    )
    if intent.get("status") != "succeeded":
        _stripe_quietly(
            lambda: _gateway().payment_intent_cancel(
                gym=current_gym(), payment_intent_id=intent["id"]
            )
        )
        raise _send_link_instead("authentication_required")
    return intent


def _sale_key(client: Client, what: str) -> str:
    import uuid

    # Per attempt: the API's Idempotency-Key makes a repeated request the same sale; this
    # makes the SDK's own retries of one call the same charge.
    return f"sale-{connection.schema_name}-{client.pk}-{what}-{uuid.uuid4().hex}"


def _check_sellable(item: Any, field: str, promotion_code: PromotionCode | None) -> None:
    if item.archived_at is not None:
        raise ValidationError({field: [_("This is no longer sold.")]})
    if promotion_code is not None and not promotion_code.active:
        raise ValidationError({"promotion_code": [_("This code is no longer valid.")]})


def pack_sell_card_on_file(
    *, actor: User, client: Client, pack: Pack, promotion_code: PromotionCode | None = None
) -> CreditGrant:
    """Sell a pack charged to the client's card on file now: the same payment line and credits
    as a Checkout purchase, keyed by the payment intent, so the webhooks about it that follow
    find them and add nothing. Not written when Stripe refuses."""
    _require(actor, SELLING_ROLES, _("You cannot sell packs."))
    _check_sellable(pack, "pack", promotion_code)
    amount = discounted(pack.price, promotion_code)
    if amount < 1:
        raise _payment_kind_error(_("Nothing to charge: record it as cash."), "nothing_to_charge")
    card = card_on_file(client=client)
    intent = _charge_card_on_file(
        card=card,
        amount=amount,
        key=_sale_key(client, f"pack-{pack.pk}"),
        description=pack.name,
        metadata={"client": client.pk, "pack": pack.pk},
    )
    try:
        credit = pack_grant_from_stripe(
            client=client,
            pack=pack,
            stripe_id=intent["id"],
            amount=amount,
            actor=actor,
            stripe_charge_id=_gateway().charge_of(intent),
            card=card,
        )
    except ValidationError as error:
        # The webhook about this payment wrote it at the same moment (its line is unique).
        if "stripe_id" not in getattr(error, "error_dict", {}):
            raise
        credit = None
    if credit is None:  # the webhook about this payment was quicker
        credit = Payment.objects.select_related("credit").get(stripe_id=intent["id"]).credit
    return credit


def membership_sell_card_on_file(
    *,
    actor: User,
    client: Client,
    plan: MembershipPlan,
    promotion_code: PromotionCode | None = None,
) -> Membership:
    """Sell a plan as a Stripe subscription charged to the client's card on file (its first
    invoice paid now, with the joining fee): the membership and the invoice's payment line
    are written as the webhooks would write them, keyed by the subscription and invoice."""
    _require(actor, SELLING_ROLES, _("You cannot sell memberships."))
    _check_sellable(plan, "plan", promotion_code)
    if not plan.stripe_price_id:
        raise ValidationError({"plan": [_("This plan is not on sale through Stripe yet.")]})
    if promotion_code is not None and not promotion_code.stripe_coupon_id:
        raise ValidationError(
            {"promotion_code": [_("This code cannot be used online yet: try again in a minute.")]}
        )
    if Membership.objects.filter(client=client, status__in=CURRENT_MEMBERSHIP_STATUSES).exists():
        raise ValidationError(
            {"plan": [_("This client already has a membership: change or cancel it.")]}
        )
    card = card_on_file(client=client)
    gateway = _gateway()
    subscription = _charge_error(
        lambda: gateway.subscription_create_off_session(
            gym=current_gym(),
            customer_id=card["customer"],
            payment_method_id=card["id"],
            price_id=plan.stripe_price_id,
            idempotency_key=_sale_key(client, f"plan-{plan.pk}"),
            metadata={"client": client.pk, "plan": plan.pk},
            trial_days=plan.trial_days,
            coupon_id=promotion_code.stripe_coupon_id if promotion_code else "",
            joining_fee=plan.joining_fee,
            currency=plan.currency,
            description=_("Joining fee: %(plan)s") % {"plan": plan.name},
        )
    )
    if subscription.get("status") in ("incomplete", "incomplete_expired"):
        # Its first invoice was not paid: declined, or the bank wants the client. Nothing of
        # it is kept at Stripe.
        error = _first_invoice_error(subscription)
        _stripe_quietly(
            lambda: gateway.subscription_cancel(
                gym=current_gym(), subscription_id=subscription["id"], at_period_end=False
            )
        )
        raise error
    invoice_id = str(subscription.get("latest_invoice") or "")
    invoice = (
        _charge_error(lambda: gateway.invoice_retrieve(gym=current_gym(), invoice_id=invoice_id))
        if invoice_id
        else {}
    )
    return _membership_record_card_sale(
        actor=actor,
        client=client,
        plan=plan,
        subscription=subscription,
        invoice=invoice,
        card=card,
    )


def _first_invoice_error(subscription: dict[str, Any]) -> ValidationError:
    gateway = _gateway()
    invoice_id = str(subscription.get("latest_invoice") or "")
    intent: dict[str, Any] = {}
    if invoice_id:
        invoice = _charge_error(
            lambda: gateway.invoice_retrieve(gym=current_gym(), invoice_id=invoice_id)
        )
        intent_id = invoice.get("payment_intent")
        if isinstance(intent_id, dict):
            intent = intent_id
        elif intent_id:
            intent = _charge_error(
                lambda: gateway.payment_intent_retrieve(
                    gym=current_gym(), payment_intent_id=str(intent_id)
                )
            )
    failure = (intent.get("last_payment_error") or {}).get("message")
    if intent.get("status") == "requires_action" or not failure:
        return _send_link_instead("authentication_required")
    return _payment_kind_error(str(failure), "card_declined")


@transaction.atomic
def _membership_record_card_sale(
    *,
    actor: User,
    client: Client,
    plan: MembershipPlan,
    subscription: dict[str, Any],
    invoice: dict[str, Any],
    card: dict[str, str],
) -> Membership:
    membership = membership_sync_from_stripe(subscription=subscription, client=client, plan=plan)
    audit_record(
        action="membership.sold",
        actor=actor,
        obj=membership,
        changes={
            "client": [None, client.pk],
            "plan": [None, plan.pk],
            "status": [None, membership.status],
            "payment_kind": [None, SaleMethod.CARD_ON_FILE.value],
        },
    )
    paid = int(invoice.get("amount_paid") or 0)
    if invoice.get("status") == "paid" and paid > 0:
        charge = invoice.get("charge")
        payment_record_from_stripe(
            stripe_id=str(invoice["id"]),
            client=client,
            amount=paid,
            currency=str(invoice.get("currency") or plan.currency).upper(),
            description=plan.name,
            stripe_invoice_id=str(invoice["id"]),
            stripe_charge_id=str((charge.get("id") if isinstance(charge, dict) else charge) or ""),
            hosted_invoice_url=str(invoice.get("hosted_invoice_url") or ""),
            membership=membership,
        )
        payment_card_learn(stripe_id=str(invoice["id"]), card=card)
    return membership


def checkout_start(
    *,
    client: Client,
    success_url: str,
    cancel_url: str,
    plan: MembershipPlan | None = None,
    pack: Pack | None = None,
    promotion_code: PromotionCode | None = None,
) -> Any:
    """A hosted Stripe Checkout session for the client to buy a plan or a pack (the portal's
    Buy buttons and the links staff send). A pack keeps the card for later charges (fees,
    sales at the desk). A promotion code is applied by its Coupon, so the page shows the
    discounted price. Not possible yet: a ValidationError coded `not_online` (no Stripe
    price, or no Stripe account) or `stripe_unavailable` (Stripe refused); naming
    `promotion_code` for a code that is inactive or not on Stripe yet."""
    import stripe

    from apps.billing import stripe_gateway
    from apps.billing.selectors import stripe_ready

    item = plan or pack
    if item is None:
        raise ValueError("Give a plan or a pack")
    if not item.stripe_price_id or not stripe_ready():
        raise _payment_kind_error(
            _("This cannot be paid online yet: take cash or a bank transfer."), "not_online"
        )
    if promotion_code is not None:
        if not promotion_code.active:
            raise ValidationError({"promotion_code": [_("This code is no longer valid.")]})
        if not promotion_code.stripe_coupon_id:
            # Its Coupon is made just after the code is saved (a task): a moment's wait.
            raise ValidationError(
                {
                    "promotion_code": [
                        _("This code cannot be used online yet: try again in a minute.")
                    ]
                }
            )
    try:
        return stripe_gateway.checkout_session_create(
            gym=current_gym(),
            client=client,
            line_items=[{"price": item.stripe_price_id, "quantity": 1}],
            mode="subscription" if plan else "payment",
            success_url=success_url,
            cancel_url=cancel_url,
            metadata={"plan": item.pk} if plan else {"pack": item.pk},
            amount=discounted(item.price, promotion_code),
            save_card=pack is not None,
            coupon_id=promotion_code.stripe_coupon_id if promotion_code else "",
        )
    except (stripe.StripeError, stripe_gateway.StripeNotConnectedError) as error:
        raise _payment_kind_error(
            _("Online payment is not available right now: try again later."),
            "stripe_unavailable",
        ) from error


def customer_portal_start(*, client: Client, return_url: str) -> str:
    """The address of a Stripe Customer Portal session where the client updates their card
    and reads their invoices (the portal's "Manage cards and invoices", and the link a failed
    payment's message leads to). Not possible: a ValidationError coded `not_online` (the gym
    takes no cards) or `stripe_unavailable`."""
    import stripe

    from apps.billing import stripe_gateway
    from apps.billing.selectors import stripe_ready

    if not stripe_ready():
        raise _payment_kind_error(
            _("Cards are not taken online here: ask at the desk."), "not_online"
        )
    try:
        session = stripe_gateway.customer_portal_session_create(
            gym=current_gym(), client=client, return_url=return_url
        )
    except (stripe.StripeError, stripe_gateway.StripeNotConnectedError) as error:
        raise _payment_kind_error(
            _("Online payment is not available right now: try again later."),
            "stripe_unavailable",
        ) from error
    return str(session.url)


def checkout_link_send(
    *,
    actor: User,
    client: Client,
    plan: MembershipPlan | None = None,
    pack: Pack | None = None,
    promotion_code: PromotionCode | None = None,
) -> str:
    """Send the client a Stripe Checkout link for a plan or a pack (with the promotion code's
    discount, if any) through the notification service, by their channels, and return it for
    the desk to copy. The webhook that follows their payment completes the sale."""
    from apps.notifications.selectors import client_channels
    from apps.notifications.services import notify
    from apps.tenants.selectors import gym_url

    _require(actor, SELLING_ROLES, _("You cannot sell."))
    item = plan or pack
    if item is None:
        raise ValueError("Give a plan or a pack")
    _check_sellable(item, "plan" if plan else "pack", promotion_code)
    if (
        plan is not None
        and Membership.objects.filter(
            client=client, status__in=CURRENT_MEMBERSHIP_STATUSES
        ).exists()
    ):
        raise ValidationError(
            {"plan": [_("This client already has a membership: change or cancel it.")]}
        )
    page = gym_url(gym=current_gym(), path=reverse("portal:memberships"))
    session = checkout_start(
        client=client,
        plan=plan,
        pack=pack,
        promotion_code=promotion_code,
        success_url=f"{page}?paid=1",
        cancel_url=page,
    )
    with transaction.atomic():
        notify(
            kind="payment_link",
            recipient=client,
            context={"item": item.name},
            event_key=f"payment_link:{session.id}",
            url=session.url,
            channels=client_channels(client),
            actor=actor,
        )
        audit_record(
            action="checkout_link.sent",
            actor=actor,
            object_type=Client._meta.label_lower,
            object_id=str(client.pk),
            changes={
                "checkout_session": [None, session.id],
                "plan" if plan else "pack": [None, item.pk],
                **({"promotion_code": [None, promotion_code.code]} if promotion_code else {}),
            },
        )
    return str(session.url)


def sale_make(
    *,
    actor: User,
    client: Client,
    payment_kind: str,
    plan: MembershipPlan | None = None,
    pack: Pack | None = None,
    promotion_code: PromotionCode | None = None,
    starts_on: date | None = None,
) -> Sale:
    """Sell a plan or a pack at the desk however the client pays: cash or a transfer
    (recorded), the card on file (charged now), or a Checkout link (sent)."""
    if payment_kind == SaleMethod.CHECKOUT_LINK:
        return Sale(
            checkout_url=checkout_link_send(
                actor=actor, client=client, plan=plan, pack=pack, promotion_code=promotion_code
            )
        )
    if payment_kind == SaleMethod.CARD_ON_FILE:
        if plan is not None:
            return Sale(
                membership=membership_sell_card_on_file(
                    actor=actor, client=client, plan=plan, promotion_code=promotion_code
                )
            )
        return Sale(
            credit=pack_sell_card_on_file(
                actor=actor, client=client, pack=pack, promotion_code=promotion_code
            )
        )
    if plan is not None:
        return Sale(
            membership=membership_sell(
                actor=actor,
                client=client,
                plan=plan,
                payment_kind=payment_kind,
                starts_on=starts_on,
                promotion_code=promotion_code,
            )
        )
    return Sale(
        credit=pack_sell(
            actor=actor,
            client=client,
            pack=pack,
            payment_kind=payment_kind,
            promotion_code=promotion_code,
        )
    )


# --- Late-cancel and no-show fees ---------------------------------------------------------------


def strike_reference(strike_pk: int) -> str:
    return f"strike:{strike_pk}"


def _fee_for(kind: str) -> int:
    current = billing_settings()
    fee = current.no_show_fee if kind == "no_show" else current.late_cancel_fee
    return fee or 0


def strike_fee_schedule(*, strike: Any) -> None:
    """Scheduling recorded a late cancel or no-show: when the gym charges a fee for it, the
    card on file is charged once the strike commits (a task; a rolled-back strike charges
    nothing). No fee set: the forfeited credit is all."""
    from apps.billing.tasks import charge_strike_fee

    amount = _fee_for(strike.kind)
    if not amount:
        return
    audit_record(
        action="fee.scheduled",
        actor=None,
        object_type=strike._meta.label_lower,
        object_id=str(strike.pk),
        changes={"amount": [None, amount], "kind": [None, strike.kind]},
    )
    strike_pk = strike.pk
    transaction.on_commit(lambda: charge_strike_fee.delay(strike_pk))


def _fee_description(strike: Any) -> str:
    when = strike.occurred_at.astimezone(gym_zone()).strftime("%Y-%m-%d %H:%M")
    if strike.kind == "no_show":
        return _("No-show fee (%(when)s)") % {"when": when}
    return _("Late cancel fee (%(when)s)") % {"when": when}


@transaction.atomic
def _fee_line_open(*, strike_pk: int) -> Payment | None:
    """The strike's fee line, pending, made now if there is none; None when nothing is to be
    charged (waived, no fee set, or charged or settled already). The strike's row lock makes
    one line per strike however many tasks run."""
    from apps.scheduling.models import Strike

    strike = Strike.objects.select_for_update().filter(pk=strike_pk).first()
    if strike is None or strike.waived_at is not None:
        return None
    payment = (
        Payment.objects.select_for_update()
        .filter(reference=strike_reference(strike.pk), kind=PaymentKind.FEE)
        .first()
    )
    if payment is None:
        amount = _fee_for(strike.kind)
        if not amount:
            return None
        client = Client.objects.get(pk=strike.client_id)
        payment = _record_payment(
            actor=None,
            client=client,
            kind=PaymentKind.FEE,
            amount=amount,
            description=_fee_description(strike),
            status=PaymentStatus.PENDING,
            reference=strike_reference(strike.pk),
        )
    return payment if payment.status == PaymentStatus.PENDING else None


@transaction.atomic
def _fee_line_close(
    *,
    payment_pk: int,
    intent: dict[str, Any] | None,
    failure: str = "",
    card: dict[str, str] | None = None,
) -> Payment:
    payment = Payment.objects.select_for_update().get(pk=payment_pk)
    before = snapshot(payment, ("status", "stripe_id", "failed_attempts", "reason"))
    if intent is not None:
        # Charged, even when the strike was waived meanwhile: the waiver's refund follows.
        waived = payment.status == PaymentStatus.WAIVED
        payment.status = PaymentStatus.SUCCEEDED
        payment.stripe_id = str(intent["id"])
        payment.stripe_charge_id = _gateway().charge_of(intent)
        for name, value in _card_fields(card).items():
            setattr(payment, name, value)
        payment.paid_at = timezone.now()
        action = "fee.charged"
        if waived:
            pk = payment.pk
            transaction.on_commit(lambda: _refund_task().delay(pk))
    elif payment.status == PaymentStatus.PENDING:
        payment.status = PaymentStatus.FAILED
        payment.failed_attempts += 1
        payment.reason = failure[:200]
        action = "fee.failed"
    else:
        return payment
    _save_fields_checked(payment, "client", "membership", "credit", "refund_of", "recorded_by")
    audit_record(
        action=action,
        actor=None,
        obj=payment,
        changes=changes_between(
            before, snapshot(payment, ("status", "stripe_id", "failed_attempts", "reason"))
        ),
    )
    return payment


def _refund_task() -> Any:
    from apps.billing.tasks import refund_waived_fee

    return refund_waived_fee


def strike_fee_charge(*, strike_pk: int) -> Payment | None:
    """Charge a strike's fee to the client's card on file (run by a task after the strike
    committed). Once per strike: a second run finds the line charged or settled and does
    nothing, and the Stripe call's idempotency key is the line's, so a run cut short after
    Stripe charged gets the same charge back. No card, a decline or a card that needs the
    client: the fee is failed, for the desk to collect. Stripe unreachable: raised, for the
    task's retry."""
    import stripe

    payment = _fee_line_open(strike_pk=strike_pk)
    if payment is None:
        return None
    card = None
    try:
        card = card_on_file(client=payment.client)
        intent = _charge_card_on_file(
            card=card,
            amount=payment.amount,
            key=f"fee-{connection.schema_name}-{payment.pk}",
            description=payment.description,
            metadata={"client": payment.client_id, "strike": strike_pk, "fee": payment.pk},
        )
    except ValidationError as error:
        cause = error.__cause__
        if isinstance(cause, stripe.StripeError) and not isinstance(cause, stripe.CardError):
            raise cause from error  # Stripe down or refusing the call: retried later
        return _fee_line_close(payment_pk=payment.pk, intent=None, failure=" ".join(error.messages))
    return _fee_line_close(payment_pk=payment.pk, intent=intent, card=card)


def strike_fee_give_up(*, strike_pk: int, failure: str) -> Payment | None:
    """Stripe could not be reached through all of the task's retries: the fee is failed (for
    the desk to collect) rather than left pending for ever."""
    payment = (
        Payment.objects.filter(reference=strike_reference(strike_pk), kind=PaymentKind.FEE)
        .only("pk")
        .first()
    )
    if payment is None:
        return None
    return _fee_line_close(
        payment_pk=payment.pk,
        intent=None,
        failure=_("Stripe could not be reached: %(error)s") % {"error": failure},
    )


def strike_fee_waive(*, strike: Any, actor: User | None) -> None:
    """A strike was waived: a fee not yet collected is waived with it (no longer charged, off
    the failed-payments list); one already charged is refunded after commit."""
    payment = (
        Payment.objects.select_for_update()
        .filter(reference=strike_reference(strike.pk), kind=PaymentKind.FEE)
        .first()
    )
    if payment is None:
        return
    if payment.status in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        before = payment.status
        payment.status = PaymentStatus.WAIVED
        payment.save(update_fields=["status"])
        audit_record(
            action="fee.waived",
            actor=actor,
            obj=payment,
            changes={"status": [before, payment.status]},
        )
    elif payment.status == PaymentStatus.SUCCEEDED:
        pk = payment.pk
        transaction.on_commit(lambda: _refund_task().delay(pk))


def fee_refund_waived(*, payment_pk: int) -> Payment | None:
    """Refund a fee whose strike was waived (run by a task): all that is left of it, reason
    "strike waived". Refunded already: nothing."""
    payment = Payment.objects.filter(pk=payment_pk, kind=PaymentKind.FEE).first()
    if payment is None or payment.status != PaymentStatus.SUCCEEDED:
        return None
    return _payment_refund(actor=None, payment=payment, reason=_("strike waived"))


@transaction.atomic
def fee_collect_offline(*, actor: User, payment: Payment, kind: str) -> Payment:
    """The desk took a failed fee in cash or by transfer: the fee line is paid, off the
    failed-payments list."""
    _require(actor, SELLING_ROLES, _("You cannot record payments."))
    if kind not in OFFLINE_KINDS:
        raise ValidationError({"kind": [_("Record cash or a bank transfer.")]})
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.kind != PaymentKind.FEE or payment.status != PaymentStatus.FAILED:
        raise ValidationError({"payment": [_("Only an unpaid fee can be collected.")]})
    payment.status = PaymentStatus.SUCCEEDED
    payment.recorded_by = actor
    payment.paid_at = timezone.now()
    payment.reason = str(dict(PaymentKind.choices)[kind])
    payment.save(update_fields=["status", "recorded_by", "paid_at", "reason"])
    audit_record(
        action="fee.collected",
        actor=actor,
        obj=payment,
        changes={"status": [PaymentStatus.FAILED, payment.status], "kind": [None, kind]},
    )
    return payment


# --- Entitlements: what a booking uses ----------------------------------------------------------


def _period_bounds(grant: str, day: date) -> tuple[date, date]:
    if grant == Grant.CLASSES_PER_WEEK:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    start = day.replace(day=1)
    return start, start + relativedelta(months=1)


def _membership_allows(
    membership: Membership, *, kind: str, day: date, class_type_id: int | None
) -> bool:
    plan = membership.plan
    if kind == CreditKind.CLASS:
        if plan.grant == Grant.SESSIONS_PER_MONTH:
            return False
        if plan.class_type_ids and class_type_id not in plan.class_type_ids:
            return False
    elif plan.grant != Grant.SESSIONS_PER_MONTH:
        return False
    if day < membership.started_on:
        return False
    if membership.paused_from and membership.paused_from <= day <= (membership.paused_until or day):
        return False
    if membership.ended_on and day > membership.ended_on:
        return False
    if membership.cancel_at_period_end and day > membership.current_period_end:
        return False
    return not is_booking_blocked_by_dunning(membership)


def _allowance_left(membership: Membership, *, day: date) -> bool:
    plan = membership.plan
    if plan.grant == Grant.UNLIMITED:
        return True
    start, end = _period_bounds(plan.grant, day)
    zone = gym_zone()
    used = EntitlementUse.objects.filter(
        membership=membership,
        returned_at__isnull=True,
        starts_at__gte=datetime.combine(start, datetime.min.time(), tzinfo=zone),
        starts_at__lt=datetime.combine(end, datetime.min.time(), tzinfo=zone),
    ).count()
    return used < (plan.grant_count or 0)


_USABLE_MEMBERSHIP_STATUSES = (
    MembershipStatus.TRIALING,
    MembershipStatus.ACTIVE,
    MembershipStatus.PAST_DUE,
)


@dataclass(frozen=True)
class EntitlementSources:
    """What a booking may use, read before any lock is taken: whether the gym requires a
    membership or credits at all, the memberships that allow it (by primary key), else the
    credit grants with credits left (soonest expiring first). Read again under the locks by
    `entitlement_take`; a booking with none is refused before it waits for anything."""

    kind: str
    starts_at: datetime
    class_type_id: int | None
    required: bool = True
    membership_ids: tuple[int, ...] = ()
    credit_ids: tuple[int, ...] = ()


# The gym's rule and everything the client could use, in one round trip: every booking reads
# this, and most refusals (a client whose credits ran out) end with it. Membership rows are
# then read only for the clients who have one.
_SOURCES_SQL = """
SELECT EXISTS (SELECT 1 FROM {settings} WHERE memberships_required),
       ARRAY(SELECT id FROM {memberships}
              WHERE client_id = %(client)s AND status = ANY(%(statuses)s) ORDER BY id),
       ARRAY(SELECT id FROM {credits}
              WHERE client_id = %(client)s AND kind = %(kind)s AND remaining > 0
                AND (expires_at IS NULL OR expires_at > %(starts_at)s)
              ORDER BY expires_at ASC NULLS LAST, id)
"""


def entitlement_sources(
    *,
    client: Client,
    kind: str,
    starts_at: datetime,
    class_type_id: int | None = None,
    override: bool = False,
) -> EntitlementSources:
    """What the client holds for a booking of `kind` starting at `starts_at`, without locks.
    `required` is False when the gym lets clients book without a membership (the booking
    uses nothing). Nothing valid: a ValidationError naming `membership`, so a client with
    nothing is refused at once rather than after the class's lock (the booking would fail
    under it anyway); unless `override` (an owner or manager books anyway: checked by
    `entitlement_take`)."""
    quote = connection.ops.quote_name
    sql = _SOURCES_SQL.format(
        settings=quote(BillingSettings._meta.db_table),
        memberships=quote(Membership._meta.db_table),
        credits=quote(CreditGrant._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "client": client.pk,
                "statuses": list(_USABLE_MEMBERSHIP_STATUSES),
                "kind": kind,
                "starts_at": starts_at,
            },
        )
        required, membership_ids, credit_ids = cursor.fetchone()
    if not required or override:
        return EntitlementSources(
            kind=kind, starts_at=starts_at, class_type_id=class_type_id, required=required
        )
    allowing: tuple[int, ...] = ()
    if membership_ids:
        day = starts_at.astimezone(gym_zone()).date()
        memberships = Membership.objects.select_related("plan").filter(pk__in=membership_ids)
        allowing = tuple(
            membership.pk
            for membership in sorted(memberships, key=lambda m: m.pk)
            if _membership_allows(membership, kind=kind, day=day, class_type_id=class_type_id)
            and _allowance_left(membership, day=day)
        )
    if not allowing and not credit_ids:
        raise _no_membership()
    return EntitlementSources(
        kind=kind,
        starts_at=starts_at,
        class_type_id=class_type_id,
        membership_ids=allowing,
        credit_ids=() if allowing else tuple(credit_ids),
    )


# One statement takes the credit, records the use and its audit event: the credit's row is
# locked from it until the booking commits, so it is the last write a booking makes.
_TAKE_CREDIT_SQL = """
WITH taken AS (
    UPDATE {credits} SET remaining = remaining - 1
     WHERE id = %(credit)s AND remaining > 0
    RETURNING id
), used AS (
    INSERT INTO {uses} (booking_ref, client_id, kind, credit_id, starts_at, used_at)
    SELECT %(booking_ref)s, %(client)s, %(kind)s, taken.id, %(starts_at)s, %(now)s FROM taken
    RETURNING id, credit_id
), audit AS (
    {audit}
)
SELECT id FROM used
"""


def _credit_take(
    *, actor: User | None, client: Client, booking_ref: str, sources: EntitlementSources
) -> EntitlementUse:
    """One credit of the first grant (in `sources`' order) that still has one. Each try holds
    at most the one grant it took, so the grants need no order among themselves; the
    `remaining > 0` condition (and the CHECK behind it) keeps credits from going negative
    whatever races it."""
    event = audit_event(
        action="entitlement.used",
        actor=actor,
        object_type=EntitlementUse._meta.label_lower,
        changes={"booking": [None, booking_ref], "membership": [None, None]},
    )
    audit_sql, audit_params = audit_insert_sql(
        event,
        source="used",
        object_id_sql="used.id",
        changes_sql="jsonb_build_object('credit', jsonb_build_array(NULL, used.credit_id))",
    )
    quote = connection.ops.quote_name
    sql = _TAKE_CREDIT_SQL.format(
        credits=quote(CreditGrant._meta.db_table),
        uses=quote(EntitlementUse._meta.db_table),
        audit=audit_sql,
    )
    now = timezone.now()
    for credit_id in sources.credit_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                {
                    "credit": credit_id,
                    "booking_ref": booking_ref,
                    "client": client.pk,
                    "kind": sources.kind,
                    "starts_at": sources.starts_at,
                    "now": now,
                    **audit_params,
                },
            )
            row = cursor.fetchone()
        if row is not None:
            return EntitlementUse(
                pk=row[0],
                booking_ref=booking_ref,
                client=client,
                kind=sources.kind,
                credit_id=credit_id,
                starts_at=sources.starts_at,
                used_at=now,
            )
    raise _no_membership()


def entitlement_take(
    *,
    actor: User | None,
    client: Client,
    kind: str,
    booking_ref: str,
    starts_at: datetime,
    class_type_id: int | None = None,
    override: bool = False,
    sources: EntitlementSources | None = None,
) -> EntitlementUse:
    """Use what the client holds for one booking: an allowance of their current membership
    first, else one credit (the one expiring soonest). Call inside the booking's transaction,
    after the spot is locked, with the `sources` read before it (`entitlement_sources`; read
    here when not given). An allowance is checked again with the membership locked; a credit
    is taken only if it is still there (the module docstring's order: spot, memberships by
    primary key, then one credit). Nothing valid: a ValidationError naming `membership`.
    Owners and managers may `override` (the booking uses nothing, audited)."""
    if override:
        if not is_management(actor):
            raise PermissionDenied(_("Only owners and managers can book without a membership."))
        use = EntitlementUse.objects.create(
            booking_ref=booking_ref,
            client=client,
            kind=kind,
            starts_at=starts_at,
            overridden_by=actor,
        )
        audit_record(
            action="entitlement.overridden",
            actor=actor,
            obj=use,
            changes={"booking": [None, booking_ref], "client": [None, client.pk]},
        )
        return use
    if sources is None:
        sources = entitlement_sources(
            client=client, kind=kind, starts_at=starts_at, class_type_id=class_type_id
        )
    if sources.membership_ids:
        day = starts_at.astimezone(gym_zone()).date()
        memberships = list(
            Membership.objects.select_for_update(of=("self",))
            .select_related("plan")
            .filter(pk__in=sources.membership_ids, status__in=_USABLE_MEMBERSHIP_STATUSES)
            .order_by("pk")
        )
        for membership in memberships:
            if _membership_allows(
                membership, kind=kind, day=day, class_type_id=class_type_id
            ) and _allowance_left(membership, day=day):
                use = EntitlementUse.objects.create(
                    booking_ref=booking_ref,
                    client=client,
                    kind=kind,
                    starts_at=starts_at,
                    membership=membership,
                )
                audit_record(
                    action="entitlement.used",
                    actor=actor,
                    obj=use,
                    changes={
                        "booking": [None, booking_ref],
                        "membership": [None, membership.pk],
                        "credit": [None, None],
                    },
                )
                return use
        # Used up or ended meanwhile: the credits, as if it had never allowed this.
        sources = entitlement_sources(
            client=client, kind=kind, starts_at=starts_at, class_type_id=class_type_id
        )
        if sources.membership_ids:
            raise _no_membership()
    return _credit_take(actor=actor, client=client, booking_ref=booking_ref, sources=sources)


def entitlement_return(*, actor: User | None, booking_ref: str) -> EntitlementUse | None:
    """Give back what a booking used (cancelled in time, or the class was cancelled): the
    credit goes up by one, the membership's allowance no longer counts it. Returning twice
    returns once; a booking that used nothing returns nothing. The use given back now, or
    None."""
    use = EntitlementUse.objects.select_for_update().filter(booking_ref=booking_ref).first()
    if use is None or use.returned_at is not None:
        return None
    use.returned_at = timezone.now()
    use.save(update_fields=["returned_at"])
    if use.credit_id is not None:
        credit = CreditGrant.objects.select_for_update().get(pk=use.credit_id)
        credit.remaining += 1
        credit.save(update_fields=["remaining"])
    audit_record(
        action="entitlement.returned",
        actor=actor,
        obj=use,
        changes={"booking": [None, booking_ref], "credit": [None, use.credit_id]},
    )
    return use


def class_booking_ref(pk: int) -> str:
    return f"class:{pk}"


def appointment_ref(pk: int) -> str:
    return f"appointment:{pk}"


def class_entitlements_return(*, actor: User | None, booking_pks: list[int]) -> int:
    """Give back what each of these class bookings used (the gym cancelled the class).
    Returns how many came back."""
    returned = 0
    for pk in sorted(booking_pks):
        use = entitlement_return(actor=actor, booking_ref=class_booking_ref(pk))
        returned += use is not None and use.credit_id is not None
    return returned
