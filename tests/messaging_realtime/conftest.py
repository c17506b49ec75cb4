"""Two gyms of their own, committed (the realtime processes are other processes: they see only
what is committed), with a trainer and their client who can log in; and two `realtime`
processes serving the test database through channels-redis. The gyms are dropped at the end
(their schemas take everything made in them along, audit events included)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from apps.accounts.models import Role, User
from apps.crm import services as crm
from apps.crm.models import Client, Trainer
from apps.tenants.models import Gym
from apps.tenants.services import gym_create
from tests.conftest import PASSWORD, make_user
from tests.messaging_realtime.realtime import RealtimeProcess, database_url, start_processes


@dataclass(frozen=True)
class RealtimeGym:
    gym: Gym
    owner_email: str
    trainer_email: str
    client_email: str
    trainer_id: int
    client_id: int

    @property
    def host(self) -> str:
        return f"{self.gym.subdomain}.localhost"


GYMS = {"a": ("Realtime Alpha", "rt-alpha"), "b": ("Realtime Bravo", "rt-bravo")}


def _drop(subdomain: str) -> None:
    connection.set_schema_to_public()
    for gym in Gym.objects.filter(subdomain=subdomain):
        gym.delete(force_drop=True)


def _build(name: str, subdomain: str) -> RealtimeGym:
    _drop(subdomain)  # what an interrupted run left behind
    domain = f"{subdomain}.example"
    owner_email = f"owner@{domain}"
    gym = gym_create(
        name=name, subdomain=subdomain, owner_email=owner_email, owner_password=PASSWORD
    )
    with tenant_context(gym), transaction.atomic():
        owner = User.objects.get(email=owner_email)
        trainer_user = make_user(Role.TRAINER, f"tina@{domain}", first_name="Tina")
        crm.profile_ensure_for_role(user=trainer_user)
        client_user = make_user(Role.CLIENT, f"cara@{domain}", first_name="Cara")
        crm.profile_ensure_for_role(user=client_user)
        trainer = Trainer.objects.get(user=trainer_user)
        client = Client.objects.get(user=client_user)
        crm.assignment_create(actor=owner, client=client, trainer=trainer, is_primary=True)
    connection.set_schema_to_public()
    return RealtimeGym(
        gym=gym,
        owner_email=owner_email,
        trainer_email=trainer_user.email,
        client_email=client_user.email,
        trainer_id=trainer.pk,
        client_id=client.pk,
    )


@pytest.fixture(scope="module")
def realtime_gyms(django_db_setup, django_db_blocker) -> Iterator[dict[str, RealtimeGym]]:
    with django_db_blocker.unblock():
        gyms = {key: _build(name, subdomain) for key, (name, subdomain) in GYMS.items()}
        try:
            yield gyms
        finally:
            for _, subdomain in GYMS.values():
                _drop(subdomain)


@pytest.fixture(scope="module")
def realtime_processes(
    realtime_gyms: dict[str, RealtimeGym], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[RealtimeProcess]]:
    """Two `realtime` processes on the test database (pytest-django's, named to them in
    DATABASE_URL) and this run's Redis db: the channel layer is channels-redis."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL): the processes meet through channels-redis")
    env = {
        "DJANGO_SETTINGS_MODULE": "fitnesscrm.settings.test",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "LOG_LEVEL": "WARNING",
    }
    processes = start_processes(
        2,
        env=env,
        host=realtime_gyms["a"].host,
        logs=tmp_path_factory.mktemp("realtime"),
    )
    try:
        yield processes
    finally:
        for process in processes:
            process.stop()
