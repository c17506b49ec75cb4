"""Reads of billing: the catalogue, what a client holds, the ledger, failed payments. Selectors
that show a person's data take the viewer and return only what the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role
from apps.billing.models import (
    CURRENT_MEMBERSHIP_STATUSES,
    BillingSettings,
    CreditGrant,
    Membership,
    MembershipPlan,
    MembershipStatus,
    Pack,
    Payment,
    PaymentKind,
    PaymentStatus,
    PromotionCode,
)
from apps.crm.models import Assignment, Client

# Who may sell, record cash and see the ledger; who may refund, pause and cancel.
SELLING_ROLES = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK)
MANAGING_ROLES = (Role.OWNER, Role.MANAGER)
CATALOGUE_ROLES = (Role.OWNER,)


def gym_currency() -> str:
    """The current gym's currency (ISO 4217): the one place every price and payment reads it."""
    tenant = getattr(connection, "tenant", None)
    return getattr(tenant, "currency", "") or getattr(settings, "DEFAULT_CURRENCY", "EUR")


def billing_settings() -> BillingSettings:
    """The gym's billing settings; the defaults when the gym never changed them (not saved:
    a read never writes)."""
    return BillingSettings.objects.first() or BillingSettings()


def stripe_ready() -> bool:
    """Whether the current gym can take cards: its Stripe account is connected (or this
    instance runs Stripe with its own keys, STRIPE_MODE=direct)."""
    from apps.billing import stripe_gateway
    from apps.connect.selectors import connected_account_for_gym
    from apps.tenants.selectors import current_gym

    if stripe_gateway.is_direct_mode():
        return bool(settings.STRIPE_TEST_SECRET_KEY or settings.STRIPE_LIVE_SECRET_KEY)
    return connected_account_for_gym(gym=current_gym()) is not None


def memberships_required() -> bool:
    return BillingSettings.objects.filter(memberships_required=True).exists()


def plan_list(*, include_archived: bool = False) -> QuerySet[MembershipPlan]:
    plans = MembershipPlan.objects.all()
    return plans if include_archived else plans.filter(archived_at__isnull=True)


def pack_list(*, include_archived: bool = False) -> QuerySet[Pack]:
    """Every pack on sale (archived ones too when asked), the drop-in among them: it sells
    wherever packs sell."""
    packs = Pack.objects.all()
    return packs if include_archived else packs.filter(archived_at__isnull=True)


def drop_in_pack() -> Pack | None:
    """The drop-in on sale (billing_settings_update keeps it in step with the drop-in price),
    None when the gym sets no drop-in price."""
    return Pack.objects.filter(is_drop_in=True, archived_at__isnull=True).order_by("pk").first()


def promotion_code_list(*, include_inactive: bool = True) -> QuerySet[PromotionCode]:
    codes = PromotionCode.objects.all()
    return codes if include_inactive else codes.filter(active=True)


def can_sell(viewer: Any) -> bool:
    return has_role(viewer, *SELLING_ROLES)


def can_manage_memberships(viewer: Any) -> bool:
    return has_role(viewer, *MANAGING_ROLES)


def can_manage_catalogue(viewer: Any) -> bool:
    return has_role(viewer, *CATALOGUE_ROLES)


def _trainer_sees(viewer: User, client: Client) -> bool:
    return Assignment.objects.filter(
        trainer__user=viewer, client=client, ends_on__isnull=True
    ).exists()


def can_see_ledger(viewer: Any, client: Client) -> bool:
    """Sellers see every client's ledger, a client their own; trainers never (status only)."""
    if has_role(viewer, *SELLING_ROLES):
        return True
    return has_role(viewer, Role.CLIENT) and client.user_id == viewer.pk


def can_see_status(viewer: Any, client: Client) -> bool:
    if can_see_ledger(viewer, client):
        return True
    return has_role(viewer, Role.TRAINER) and _trainer_sees(viewer, client)


def memberships_of(*, viewer: Any, client: Client) -> QuerySet[Membership]:
    if not can_see_status(viewer, client):
        raise PermissionDenied(_("You cannot see this client's memberships."))
    return Membership.objects.filter(client=client).select_related("plan")


def credits_of(*, viewer: Any, client: Client) -> QuerySet[CreditGrant]:
    if not can_see_status(viewer, client):
        raise PermissionDenied(_("You cannot see this client's credits."))
    return CreditGrant.objects.filter(client=client).select_related("pack")


def ledger_of(*, viewer: Any, client: Client) -> QuerySet[Payment]:
    if not can_see_ledger(viewer, client):
        raise PermissionDenied(_("You cannot see this client's payments."))
    return Payment.objects.filter(client=client).select_related("recorded_by")


def memberships_visible(viewer: Any) -> QuerySet[Membership]:
    """Every membership the viewer may see: all for sellers, their assigned clients' for
    trainers, their own for a client."""
    memberships = Membership.objects.select_related("plan", "client")
    if has_role(viewer, *SELLING_ROLES):
        return memberships
    if has_role(viewer, Role.TRAINER):
        return memberships.filter(
            client__assignments__trainer__user=viewer, client__assignments__ends_on__isnull=True
        ).distinct()
    if has_role(viewer, Role.CLIENT):
        return memberships.filter(client__user=viewer)
    return memberships.none()


def credits_visible(viewer: Any) -> QuerySet[CreditGrant]:
    credits = CreditGrant.objects.select_related("pack", "client")
    if has_role(viewer, *SELLING_ROLES):
        return credits
    if has_role(viewer, Role.TRAINER):
        return credits.filter(
            client__assignments__trainer__user=viewer, client__assignments__ends_on__isnull=True
        ).distinct()
    if has_role(viewer, Role.CLIENT):
        return credits.filter(client__user=viewer)
    return credits.none()


def payments_visible(viewer: Any) -> QuerySet[Payment]:
    """Trainers see no payments; clients their own."""
    payments = Payment.objects.select_related("client", "recorded_by")
    if has_role(viewer, *SELLING_ROLES):
        return payments
    if has_role(viewer, Role.CLIENT):
        return payments.filter(client__user=viewer)
    return payments.none()


def failed_payments(*, viewer: Any) -> QuerySet[Membership]:
    """Memberships whose renewal failed, longest overdue first, for the failed payments list."""
    if not has_role(viewer, *SELLING_ROLES):
        raise PermissionDenied(_("You cannot see failed payments."))
    return (
        Membership.objects.filter(
            status__in=(MembershipStatus.PAST_DUE, MembershipStatus.SUSPENDED)
        )
        .select_related("plan", "client")
        .order_by("past_due_since", "pk")
    )


def card_on_file_seen(*, client: Client) -> dict[str, str] | None:
    """The card Stripe last charged for the client ({"card_brand", "card_last4"}), as our
    ledger learnt it from a sale, a fee or a webhook; None when no card payment told us.
    No call to Stripe (the profile reads it on every view)."""
    return (
        Payment.objects.filter(client=client)
        .exclude(card_last4="")
        .order_by("-paid_at", "-pk")
        .values("card_brand", "card_last4")
        .first()
    )


def failed_fees(*, viewer: Any) -> QuerySet[Payment]:
    """Late-cancel and no-show fees the card on file did not pay, oldest first, for the desk
    to collect."""
    if not has_role(viewer, *SELLING_ROLES):
        raise PermissionDenied(_("You cannot see failed payments."))
    return (
        Payment.objects.filter(kind=PaymentKind.FEE, status=PaymentStatus.FAILED)
        .select_related("client")
        .order_by("paid_at", "pk")
    )


def refundable_amount(payment: Payment) -> int:
    return payment.amount - payment.refunded_amount


def is_booking_blocked_by_dunning(membership: Membership, *, now: datetime | None = None) -> bool:
    """A past-due membership still books for the gym's grace days, then no more."""
    if membership.status != MembershipStatus.PAST_DUE:
        return False
    since = membership.past_due_since or timezone.now()
    days = billing_settings().dunning_block_days
    return (now or timezone.now()) - since >= timedelta(days=days)


@dataclass
class BillingStatus:
    """What check-in and the trainer see: the current membership's status and credits left,
    with a warning when the client cannot book or should be asked to pay."""

    status: str = ""
    status_label: str = ""
    plan_name: str = ""
    class_credits: int = 0
    session_credits: int = 0
    warning: str = ""
    memberships: list[Membership] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.status_label:
            return self.status_label
        if self.class_credits or self.session_credits:
            return _("Credits only")
        return _("No membership")


_WARNINGS = {
    MembershipStatus.PAST_DUE: lambda: _("Payment failed: ask the client to update their card."),
    MembershipStatus.SUSPENDED: lambda: _("Membership suspended for non-payment."),
    MembershipStatus.PAUSED: lambda: _("Membership paused."),
    MembershipStatus.EXPIRED: lambda: _("Membership expired."),
    MembershipStatus.CANCELLED: lambda: _("Membership cancelled."),
}


def billing_in_use() -> bool:
    """Whether the gym sells anything: gyms that do not see no membership badges."""
    return MembershipPlan.objects.exists() or Pack.objects.exists()


def check_in_statuses(client_ids: set[int]) -> dict[int, BillingStatus]:
    """The check-in list's badges: none at all for a gym that sells nothing."""
    return billing_status_for(client_ids) if billing_in_use() else {}


def billing_status_for(client_ids: list[int] | set[int]) -> dict[int, BillingStatus]:
    """The billing status of many clients in two queries (check-in lists, rosters)."""
    ids = set(client_ids)
    result = {pk: BillingStatus() for pk in ids}
    if not ids:
        return result
    now = timezone.now()
    latest = (
        Membership.objects.filter(client_id__in=ids)
        .select_related("plan")
        .order_by("client_id", "-started_on", "-pk")
        .distinct("client_id")
    )
    for membership in latest:
        status = result[membership.client_id]
        status.status = membership.status
        status.status_label = membership.get_status_display()
        status.plan_name = membership.plan.name
        warning = _WARNINGS.get(membership.status)
        if warning is not None:
            status.warning = warning()
    credit_rows = (
        CreditGrant.objects.filter(client_id__in=ids, remaining__gt=0)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values("client_id", "kind")
        .annotate(left=Sum("remaining"))
    )
    for row in credit_rows:
        status = result[row["client_id"]]
        if row["kind"] == "class":
            status.class_credits = row["left"]
        else:
            status.session_credits = row["left"]
    for status in result.values():
        current = status.status in CURRENT_MEMBERSHIP_STATUSES
        if not current and not (status.class_credits or status.session_credits):
            status.warning = status.warning or _("Nothing valid to book with.")
        elif (
            status.warning
            and status.status
            not in (
                MembershipStatus.PAST_DUE,
                MembershipStatus.SUSPENDED,
                MembershipStatus.PAUSED,
            )
            and (status.class_credits or status.session_credits)
        ):
            # Credits still let them book: an old membership's ending is no warning.
            status.warning = ""
    return result
