"""A realistic demo business for the demo gym: trainers, clients across every status, who
coaches whom, notes and leads. Deterministic (seeded), written through the services so the demo
also has an audit trail."""

from __future__ import annotations

import random
import unicodedata
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from apps.accounts.models import Role, User
from apps.crm import services
from apps.crm.models import Client, ClientStatus, Lead, NoteKind, Trainer

FIRST_NAMES = [
    "Amelia",
    "Oliver",
    "Isla",
    "George",
    "Ava",
    "Noah",
    "Mia",
    "Arthur",
    "Ivy",
    "Leo",
    "Freya",
    "Oscar",
    "Lily",
    "Harry",
    "Grace",
    "Jack",
    "Sofia",
    "Charlie",
    "Evie",
    "Theo",
    "Ella",
    "Finn",
    "Chloe",
    "Alfie",
    "Ruby",
    "Jacob",
    "Emily",
    "Henry",
    "Layla",
    "Thomas",
    "Nora",
    "Lucas",
    "Maya",
    "Samuel",
    "Zara",
    "Adam",
    "Hannah",
    "Omar",
    "Priya",
    "Mateo",
    "Aisha",
    "Kenji",
    "Ines",
    "Tomás",
    "Yara",
    "Felix",
    "Elena",
    "Ravi",
    "Lucia",
    "Idris",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Walker",
    "Robinson",
    "Thompson",
    "White",
    "Hughes",
    "Edwards",
    "Green",
    "Lewis",
    "Wood",
    "Harris",
    "Martin",
    "Jackson",
    "Clarke",
    "Clark",
    "Turner",
    "Hill",
    "Scott",
    "Cooper",
    "Morris",
    "Ward",
    "Moore",
    "King",
    "Watson",
    "Baker",
    "Harrison",
    "Morgan",
    "Khan",
    "Okafor",
    "Novak",
    "García",
    "Rossi",
    "Müller",
    "Nakamura",
    "Kowalski",
    "Haddad",
    "Silva",
    "Fischer",
    "O'Brien",
    "Larsen",
]
GOALS = (
    "Lose 8 kg before the summer",
    "Run a first half marathon",
    "Get back to training after knee surgery",
    "Build strength: 100 kg deadlift",
    "Improve mobility and posture at a desk job",
    "Train for a hiking trip",
    "Feel stronger and sleep better",
    "Prepare for a triathlon",
)
TAGS = ("morning", "evening", "vip", "corporate", "student", "rehab", "online", "couple")
SOURCES = ("website", "referral", "instagram", "walk-in", "google", "corporate")
SPECIALTIES = (
    ["strength", "powerlifting"],
    ["weight loss", "nutrition"],
    ["rehab", "mobility"],
    ["endurance", "running"],
    ["HIIT", "group classes"],
)
STATUS_WEIGHTS = (
    (ClientStatus.ACTIVE, 55),
    (ClientStatus.TRIAL, 12),
    (ClientStatus.PAUSED, 10),
    (ClientStatus.CHURNED, 15),
    (ClientStatus.LEAD, 8),
)
NOTES = (
    (NoteKind.SESSION, "Good session: added 5 kg on squats, form solid."),
    (NoteKind.GENERAL, "Prefers early mornings; travels for work in March."),
    (NoteKind.HEALTH, "Mild lower-back pain after long drives; avoid heavy flexion."),
    (NoteKind.SESSION, "Struggled with conditioning today; slept badly."),
    (NoteKind.HEALTH, "Cleared by physio to resume running."),
)


def _ascii(email: str) -> str:
    """García -> garcia: email addresses of the demo stay plain ASCII."""
    folded = unicodedata.normalize("NFKD", email).encode("ascii", "ignore").decode()
    return folded.lower().replace("'", "")


def seed_business(
    *, owner: User, trainers: int = 5, clients: int = 200, leads: int = 12, seed: int = 2026
) -> dict[str, int]:
    """Fill the current gym. Safe to run again: does nothing when clients already exist."""
    if Client.objects.exists():
        return {"trainers": Trainer.objects.count(), "clients": Client.objects.count()}
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    today = timezone.localdate()

    coaches: list[Trainer] = []
    for index in range(trainers):
        first, last = FIRST_NAMES[index * 7 % len(FIRST_NAMES)], LAST_NAMES[index * 3]
        email = "trainer@demo.example" if index == 0 else _ascii(f"{first}.coach@demo.example")
        user = User.objects.filter(email=email).first()
        trainer = (
            services.trainer_profile_ensure(user=user)
            if user is not None
            else services.trainer_create(actor=owner, email=email, first_name=first, last_name=last)
        )
        coaches.append(
            services.trainer_update(
                actor=owner,
                trainer=trainer,
                bio=f"{first} has coached for {3 + index * 2} years.",
                specialties=SPECIALTIES[index % len(SPECIALTIES)],
                hourly_rate=Decimal(45 + index * 5),
                calendar_colour=("#1a7f5a", "#2563eb", "#c2410c", "#7c3aed", "#0e7490")[index % 5],
            )
        )
        services.certification_create(
            actor=owner,
            trainer=coaches[-1],
            name="First aid",
            issuer="Red Cross",
            # One certificate expires soon, so the owner's dashboard has something to show.
            expires_on=today + timedelta(days=12 if index == 1 else 300 + index * 40),
        )

    statuses = [status for status, weight in STATUS_WEIGHTS for _ in range(weight)]
    created: list[Client] = []
    for index in range(clients):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        status = rng.choice(statuses)
        joined = today - timedelta(days=rng.randint(0, 900))
        churned = (
            joined + timedelta(days=rng.randint(30, max(31, (today - joined).days)))
            if status == ClientStatus.CHURNED
            else None
        )
        if churned and churned > today:
            churned = today
        email = (
            "client@demo.example" if index == 0 else _ascii(f"{first}.{last}.{index}@example.com")
        )
        client = services.client_create(
            actor=owner,
            first_name=first,
            last_name=last,
            email=email,
            phone=f"+44 7700 9{index:05d}",
            date_of_birth=today - timedelta(days=rng.randint(18 * 365, 70 * 365)),
            goals=rng.choice(GOALS),
            status=status,
            tags=rng.sample(TAGS, rng.randint(0, 2)),
            source=rng.choice(SOURCES),
            joined_on=joined,
            churned_on=churned,
            emergency_contact_name=f"{rng.choice(FIRST_NAMES)} {last}",
            emergency_contact_phone=f"+44 7700 8{index:05d}",
        )
        created.append(client)
        if status in (ClientStatus.ACTIVE, ClientStatus.TRIAL, ClientStatus.PAUSED):
            services.assignment_create(
                actor=owner,
                client=client,
                trainer=coaches[index % len(coaches)],
                starts_on=joined,
            )
            if rng.random() < 0.15:
                services.assignment_create(
                    actor=owner, client=client, trainer=coaches[(index + 2) % len(coaches)]
                )
            if rng.random() < 0.5:
                kind, body = rng.choice(NOTES)
                services.note_create(actor=owner, client=client, kind=kind, body=body)

    for index in range(leads):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        services.lead_capture(
            first_name=first,
            last_name=last,
            email=_ascii(f"lead.{index}.{first}@example.com"),
            message=rng.choice(GOALS),
            marketing_consent=rng.random() < 0.5,
            source=rng.choice(SOURCES),
        )
    return {
        "trainers": len(coaches),
        "clients": len(created),
        "leads": Lead.objects.count(),
    }


def link_demo_client_login(*, user: User) -> None:
    """The demo's client login gets the client record with its email."""
    if user.role == Role.CLIENT:
        services.client_profile_ensure(user=user)
