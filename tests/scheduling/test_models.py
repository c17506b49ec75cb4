"""The database itself refuses double booking: exclusion constraints, in a gym schema cloned
from the template (alpha is made by gym_create, so this also proves the clone keeps them)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction
from django_tenants.utils import tenant_context

from apps.scheduling.models import Appointment, AppointmentStatus, Room
from tests.crm.conftest import CrmGym

T9 = datetime(2026, 12, 1, 9, tzinfo=UTC)
T10 = datetime(2026, 12, 1, 10, tzinfo=UTC)
T930 = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
T1030 = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)


def _create(crm: CrmGym, **fields: object) -> Appointment:
    values = {"trainer": crm.tina, "client": crm.ann, "starts_at": T9, "ends_at": T10}
    values.update(fields)
    with transaction.atomic():
        return Appointment.objects.create(**values)


def test_trainer_cannot_be_double_booked_even_by_raw_orm(sched_a: CrmGym) -> None:
    with tenant_context(sched_a.gym):
        _create(sched_a)
        with pytest.raises(IntegrityError, match="scheduling_trainer_not_double_booked"):
            _create(sched_a, client=sched_a.bob, starts_at=T930, ends_at=T1030)
        # Back to back is fine (half-open ranges), and another trainer is free.
        _create(sched_a, starts_at=T10, ends_at=T1030)
        _create(sched_a, trainer=sched_a.tom, client=sched_a.cara)


def test_room_cannot_be_double_booked(sched_a: CrmGym, studio: Room) -> None:
    with tenant_context(sched_a.gym):
        _create(sched_a, room=studio)
        with pytest.raises(IntegrityError, match="scheduling_room_not_double_booked"):
            _create(sched_a, trainer=sched_a.tom, client=sched_a.cara, room=studio)
        # Online (no room) sessions never clash on the room.
        _create(sched_a, trainer=sched_a.tom, client=sched_a.cara)


def test_cancelled_appointments_free_the_time(sched_a: CrmGym) -> None:
    with tenant_context(sched_a.gym):
        _create(sched_a, status=AppointmentStatus.CANCELLED)
        _create(sched_a, status=AppointmentStatus.LATE_CANCELLED, client=sched_a.bob)
        _create(sched_a)
        with pytest.raises(IntegrityError):
            _create(sched_a, status=AppointmentStatus.COMPLETED, client=sched_a.bob)


def test_a_new_gym_made_by_gym_create_refuses_overlaps(db) -> None:
    from apps.crm import services
    from apps.tenants.models import Gym
    from apps.tenants.services import gym_create
    from tests.conftest import PASSWORD

    gym_create(
        name="Delta Dumbbells",
        subdomain="delta",
        owner_email="owner@delta.example",
        owner_password=PASSWORD,
    )
    gym = Gym.objects.get(subdomain="delta")
    with tenant_context(gym):
        from apps.accounts.models import User

        owner = User.objects.get(email="owner@delta.example")
        tina = services.trainer_create(actor=owner, email="tina@delta.example")
        ann = services.client_create(actor=owner, first_name="Ann", email="ann@delta.example")
        Appointment.objects.create(trainer=tina, client=ann, starts_at=T9, ends_at=T10)
        with pytest.raises(IntegrityError), transaction.atomic():
            Appointment.objects.create(trainer=tina, client=ann, starts_at=T930, ends_at=T1030)
