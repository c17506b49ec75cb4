"""The demo gym for `make run`: a gym at demo.<BASE_DOMAIN> with one login per role and a
realistic business (5 trainers, 200 clients, assignments, notes and leads), its timetable
(classes, bookings, 1:1 sessions) and training (plans, logged workouts, measurements)."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from apps.automations.demo import seed_automations
from apps.billing.demo import seed_billing
from apps.crm.demo import link_demo_client_login, seed_business
from apps.messaging.demo import seed_messages
from apps.scheduling.demo import seed_schedule
from apps.tenants.models import Gym
from apps.tenants.selectors import gym_url
from apps.tenants.services import gym_create
from apps.training.demo import seed_measurements, seed_training

DEMO_SUBDOMAIN = "demo"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for anyone trying the demo
DEMO_USERS = [
    ("owner@demo.example", Role.OWNER, "Olivia", "Owner"),
    ("manager@demo.example", Role.MANAGER, "Marcus", "Manager"),
    ("trainer@demo.example", Role.TRAINER, "Tara", "Trainer"),
    ("desk@demo.example", Role.FRONT_DESK, "Frank", "Desk"),
    ("client@demo.example", Role.CLIENT, "Chloe", "Client"),
]


class Command(BaseCommand):
    help = "Create (or top up) the demo gym with one login per role. Safe to run again."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", default="8000", help="Port shown in the printed URLs.")

    def handle(self, *args: Any, **options: Any) -> None:
        gym = Gym.objects.filter(subdomain=DEMO_SUBDOMAIN).first()
        if gym is None:
            gym = gym_create(
                name="Demo Gym",
                subdomain=DEMO_SUBDOMAIN,
                owner_email=DEMO_USERS[0][0],
                owner_password=DEMO_PASSWORD,
                time_zone="Europe/London",
            )
        with tenant_context(gym), transaction.atomic():
            for email, role, first, last in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    email=email,
                    defaults={
                        "role": role,
                        "first_name": first,
                        "last_name": last,
                        "is_staff": role in (Role.OWNER, Role.MANAGER),
                    },
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save(update_fields=["password"])
                    EmailAddress.objects.get_or_create(
                        user=user, email=email, defaults={"primary": True, "verified": True}
                    )
            owner = User.objects.get(email=DEMO_USERS[0][0])
            counts = seed_business(owner=owner)
            link_demo_client_login(user=User.objects.get(email="client@demo.example"))
            self.stdout.write(
                "Demo business: " + ", ".join(f"{count} {name}" for name, count in counts.items())
            )
            # After the client login is linked: the demo client books as they would themselves.
            for label, seed in (
                ("Demo schedule", seed_schedule),
                ("Demo training", seed_training),
                ("Demo progress", seed_measurements),
                ("Demo billing", seed_billing),
                ("Demo automations", seed_automations),
                ("Demo messages", seed_messages),
            ):
                seeded = seed(owner=owner)
                self.stdout.write(
                    f"{label}: " + ", ".join(f"{count} {name}" for name, count in seeded.items())
                )
        port = options["port"]
        self.stdout.write(
            self.style.SUCCESS("\nFitnessCRM is ready.\n")
            + f"  Platform:  http://localhost:{port}/\n"
            + f"  Demo gym:  {gym_url(gym=gym, port=port)}\n"
            + f"  Logins (password {DEMO_PASSWORD}):\n"
            + "".join(f"    {role.label:<11} {email}\n" for email, role, _, _ in DEMO_USERS)
        )
