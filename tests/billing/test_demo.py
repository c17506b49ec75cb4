"""seed_demo's billing: a catalogue, memberships in every state, twelve months of offline
payments, the demo client's own membership and pack; running it again adds nothing."""

from __future__ import annotations

import io

from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django_tenants.utils import tenant_context

from apps.billing.models import CreditGrant, Membership, MembershipStatus, Payment
from apps.tenants.models import Gym
from apps.tenants.selectors import gym_today


def test_seed_demo_sells_plans_and_packs_once(db) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo billing:" in out.getvalue()
    gym = Gym.objects.get(subdomain="demo")
    with tenant_context(gym):
        statuses = set(Membership.objects.values_list("status", flat=True))
        assert statuses >= set(MembershipStatus.values)
        oldest = Payment.objects.order_by("paid_at").first().paid_at.date()
        assert oldest <= gym_today() - relativedelta(months=11)
        assert not Payment.objects.exclude(kind__in=("offline_cash", "offline_transfer")).exists()
        demo = Membership.objects.get(client__user__email="client@demo.example")
        assert demo.status == MembershipStatus.ACTIVE
        assert CreditGrant.objects.filter(client__user__email="client@demo.example").exists()
        counts = (Membership.objects.count(), Payment.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    with tenant_context(gym):
        assert (Membership.objects.count(), Payment.objects.count()) == counts
