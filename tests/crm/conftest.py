"""CRM fixtures: the same small business in gym A (`crm_a`) and gym B (`crm_b`), made through
the services as the app would make it.

In each gym: owner, manager, front desk; trainers Tina and Tom; clients Ann (Tina's, with health
notes and a health note by Tina), Bob (no trainer) and Cara (Tom's, with a portal login); one
new lead. Objects are read inside the gym (`with tenant_context(crm.gym):`) when a test needs
more than their ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.accounts.models import Role, User
from apps.crm import services
from apps.crm.models import Client, Lead, Note, NoteKind, Trainer
from apps.tenants.models import Gym
from tests.conftest import make_user


@dataclass(frozen=True)
class CrmGym:
    gym: Gym
    owner: User
    manager: User
    desk: User
    tina: Trainer
    tom: Trainer
    ann: Client
    bob: Client
    cara: Client
    cara_user: User
    note: Note
    lead: Lead

    @property
    def host(self) -> str:
        return f"{self.gym.subdomain}.localhost"

    def user(self, role: str) -> User:
        """The user playing `role`: owner, manager, desk, tina, tom or cara."""
        people = {
            "owner": self.owner,
            "manager": self.manager,
            "desk": self.desk,
            "tina": self.tina.user,
            "tom": self.tom.user,
            "cara": self.cara_user,
        }
        return people[role]


def build_crm_gym(gym: Gym, owner: User) -> CrmGym:
    domain = f"{gym.subdomain}.example"
    with tenant_context(gym):
        manager = make_user(Role.MANAGER, f"manager@{domain}")
        desk = make_user(Role.FRONT_DESK, f"desk@{domain}")
        tina = services.trainer_create(
            actor=owner, email=f"tina@{domain}", first_name="Tina", last_name="Trainer"
        )
        tom = services.trainer_create(
            actor=owner, email=f"tom@{domain}", first_name="Tom", last_name="Coach"
        )
        ann = services.client_create(
            actor=owner,
            first_name="Ann",
            last_name="Able",
            email=f"ann@{domain}",
            phone="+44 7700 900001",
            health_notes="Asthma; carries an inhaler.",
            parq_answers={"heart_condition": False},
            tags=["vip", "morning"],
        )
        bob = services.client_create(
            actor=owner, first_name="Bob", last_name="Baker", email=f"bob@{domain}"
        )
        cara_user = make_user(Role.CLIENT, f"cara@{domain}", first_name="Cara", last_name="Cole")
        services.profile_ensure_for_role(user=cara_user)
        cara = Client.objects.get(user=cara_user)
        services.assignment_create(actor=owner, client=ann, trainer=tina)
        services.assignment_create(actor=owner, client=cara, trainer=tom)
        note = services.note_create(
            actor=tina.user, client=ann, kind=NoteKind.HEALTH, body="Inhaler before intervals."
        )
        lead = services.lead_capture(
            first_name="Lee", last_name="Prospect", email=f"lee@{domain}", message="Get strong."
        )
    connection.set_schema_to_public()
    return CrmGym(
        gym=gym,
        owner=owner,
        manager=manager,
        desk=desk,
        tina=tina,
        tom=tom,
        ann=ann,
        bob=bob,
        cara=cara,
        cara_user=cara_user,
        note=note,
        lead=lead,
    )


@pytest.fixture
def crm_a(gym_a: Gym, owner_a: User) -> CrmGym:
    return build_crm_gym(gym_a, owner_a)


@pytest.fixture
def crm_b(gym_b: Gym, owner_b: User) -> CrmGym:
    return build_crm_gym(gym_b, owner_b)


@pytest.fixture
def api_as(crm_a: CrmGym) -> Callable[..., APIClient]:
    """`api_as("tina")`: an API client on gym A's host, authenticated as that person."""

    def make(role: str, crm: CrmGym = crm_a) -> APIClient:
        client = APIClient(HTTP_HOST=crm.host)
        client.force_authenticate(crm.user(role))
        return client

    return make
