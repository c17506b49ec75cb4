from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.tenants.selectors import gym_url
from apps.tenants.services import gym_create


class Command(BaseCommand):
    help = "Create a gym with its own schema, domain and owner account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subdomain")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument(
            "--owner-password",
            help="Omit to be asked for it (or, with --no-input, to create the owner unusable "
            "until they reset it).",
        )
        parser.add_argument("--time-zone", default="UTC")
        parser.add_argument("--no-input", action="store_false", dest="interactive")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["owner_password"]
        if password is None and options["interactive"]:
            password = getpass.getpass("Owner password: ")
        try:
            gym = gym_create(
                name=options["name"],
                subdomain=options["subdomain"],
                owner_email=options["owner_email"],
                owner_password=password,
                time_zone=options["time_zone"],
            )
        except ValidationError as exc:
            lines = [f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()]
            raise CommandError("Could not create the gym.\n" + "\n".join(lines)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created {gym.name} at {gym_url(gym=gym)}"))
