"""Make the default platform plans (apps.platform_billing.services.DEFAULT_PLANS) where
missing; safe to run on every deploy. Does nothing while PLATFORM_BILLING is off."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.platform_billing.services import platform_plans_ensure


class Command(BaseCommand):
    help = "Make the default platform plans where missing (PLATFORM_BILLING on only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stripe",
            action="store_true",
            help="Also give each plan without a Stripe price a Product and a monthly Price "
            "on the platform's Stripe account.",
        )
        parser.add_argument("--currency", default="EUR", help="ISO 4217 code of new plans.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.PLATFORM_BILLING:
            self.stdout.write("PLATFORM_BILLING is off: no platform plans are needed.")
            return
        for plan in platform_plans_ensure(
            currency=options["currency"], in_stripe=options["stripe"]
        ):
            price = plan.stripe_price_id or "no Stripe price yet"
            self.stdout.write(f"{plan.code}: {plan.name}, {plan.amount} {plan.currency} ({price})")
