"""Fixtures of the import and export tests: gym A's staff, and the sample file."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from tests.conftest import make_user

SAMPLE = Path(__file__).parent / "data" / "mindbody_clients.csv"


def csv_file(content: bytes | str, name: str = "clients.csv") -> SimpleUploadedFile:
    if isinstance(content, str):
        content = content.encode()
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture
def sample_bytes() -> bytes:
    return SAMPLE.read_bytes()


@pytest.fixture
def staff(gym_a, owner_a):  # type: ignore[no-untyped-def]
    """Gym A's people: owner, manager, front desk, a trainer (with a trainer profile)."""
    from apps.crm import services

    with tenant_context(gym_a):
        manager = make_user(Role.MANAGER, "manager@alpha.example")
        desk = make_user(Role.FRONT_DESK, "desk@alpha.example")
        desk2 = make_user(Role.FRONT_DESK, "desk2@alpha.example")
        client_user = make_user(Role.CLIENT, "member@alpha.example")
        trainer = services.trainer_create(
            actor=owner_a, email="tina@alpha.example", first_name="Tina", last_name="Trainer"
        )
        # Verified, as make_user's are, so the trainer logs in like the others (the welcome
        # email's address is not verified until they choose a password).
        from allauth.account.models import EmailAddress

        EmailAddress.objects.update_or_create(
            user=trainer.user,
            email=trainer.user.email,
            defaults={"primary": True, "verified": True},
        )
    return {
        "owner": owner_a,
        "manager": manager,
        "desk": desk,
        "desk2": desk2,
        "client": client_user,
        "trainer": trainer,
    }
