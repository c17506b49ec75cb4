"""Measurements through the services: role rules, ranges in the database, audit without values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.audit.models import AuditEvent
from apps.progress import selectors, services
from apps.progress.models import BodyMeasurement
from tests.conftest import make_user
from tests.crm.conftest import CrmGym


def test_who_may_record_for_whom(crm_a: CrmGym):
    with tenant_context(crm_a.gym):
        # Management and the assigned trainer for a client; the client for themselves.
        for actor, client in [
            (crm_a.owner, crm_a.ann),
            (crm_a.manager, crm_a.bob),
            (crm_a.tina.user, crm_a.ann),
            (crm_a.tom.user, crm_a.cara),
            (crm_a.cara_user, crm_a.cara),
        ]:
            services.measurement_create(actor=actor, client=client, weight_kg=Decimal("70"))
        # Not assigned, front desk (no health data), another client.
        for actor, client in [
            (crm_a.tina.user, crm_a.cara),
            (crm_a.tom.user, crm_a.ann),
            (crm_a.desk, crm_a.ann),
            (crm_a.cara_user, crm_a.ann),
        ]:
            with pytest.raises(PermissionDenied):
                services.measurement_create(actor=actor, client=client, weight_kg=Decimal("70"))
        assert BodyMeasurement.objects.count() == 5


def test_what_each_role_sees(crm_a: CrmGym):
    with tenant_context(crm_a.gym):
        ann = services.measurement_create(actor=crm_a.owner, client=crm_a.ann, weight_kg=70)
        cara = services.measurement_create(actor=crm_a.owner, client=crm_a.cara, weight_kg=60)
        bob = services.measurement_create(actor=crm_a.owner, client=crm_a.bob, weight_kg=90)

        def seen(user):  # type: ignore[no-untyped-def]
            return set(selectors.measurement_list(viewer=user))

        assert seen(crm_a.owner) == seen(crm_a.manager) == {ann, cara, bob}
        assert seen(crm_a.tina.user) == {ann}
        assert seen(crm_a.tom.user) == {cara}
        assert seen(crm_a.cara_user) == {cara}
        assert seen(crm_a.desk) == set()
        assert list(selectors.progress_client_list(viewer=crm_a.desk)) == []


def test_a_client_changes_only_what_they_recorded(crm_a: CrmGym):
    with tenant_context(crm_a.gym):
        by_tom = services.measurement_create(actor=crm_a.tom.user, client=crm_a.cara, weight_kg=60)
        own = services.measurement_create(actor=crm_a.cara_user, client=crm_a.cara, weight_kg=61)
        with pytest.raises(PermissionDenied):
            services.measurement_delete(actor=crm_a.cara_user, measurement=by_tom)
        services.measurement_update(actor=crm_a.cara_user, measurement=own, weight_kg=Decimal("62"))
        services.measurement_delete(actor=crm_a.cara_user, measurement=own)
        # Staff who follow the client may correct anything.
        services.measurement_update(actor=crm_a.tom.user, measurement=by_tom, weight_kg=59)
        assert list(BodyMeasurement.objects.values_list("weight_kg", flat=True)) == [
            Decimal("59.00")
        ]


def test_values_are_checked_before_the_database(crm_a: CrmGym):
    with tenant_context(crm_a.gym):
        with pytest.raises(ValidationError) as caught:
            services.measurement_create(actor=crm_a.owner, client=crm_a.ann, weight_kg=5)
        assert "weight_kg" in caught.value.message_dict
        with pytest.raises(ValidationError):
            services.measurement_create(actor=crm_a.owner, client=crm_a.ann)
        with pytest.raises(ValidationError) as caught:
            services.measurement_create(
                actor=crm_a.owner, client=crm_a.ann, blood_pressure_systolic=120
            )
        assert "blood_pressure_diastolic" in caught.value.message_dict
        with pytest.raises(ValidationError) as caught:
            services.measurement_create(
                actor=crm_a.owner,
                client=crm_a.ann,
                blood_pressure_systolic=80,
                blood_pressure_diastolic=120,
            )
        assert "blood_pressure_systolic" in caught.value.message_dict


@pytest.mark.parametrize(
    "values",
    [
        {"weight_kg": Decimal("5")},
        {"weight_kg": Decimal("401")},
        {"body_fat_percent": Decimal("90")},
        {"waist_cm": Decimal("3")},
        {"resting_heart_rate": 300},
        {"blood_pressure_systolic": 120},
        {"blood_pressure_systolic": 80, "blood_pressure_diastolic": 90},
        {},
    ],
)
def test_the_database_refuses_impossible_values(crm_a: CrmGym, values):
    with tenant_context(crm_a.gym), pytest.raises(IntegrityError), transaction.atomic():
        BodyMeasurement.objects.create(client=crm_a.ann, **values)


def test_audit_names_fields_never_values(crm_a: CrmGym):
    with tenant_context(crm_a.gym):
        measurement = services.measurement_create(
            actor=crm_a.owner, client=crm_a.ann, weight_kg=Decimal("73.40"), notes="Knee pain"
        )
        services.measurement_update(
            actor=crm_a.owner, measurement=measurement, weight_kg=Decimal("72.10")
        )
        events = AuditEvent.objects.filter(object_type="progress.bodymeasurement")
        assert {event.action for event in events} == {
            "measurement.created",
            "measurement.updated",
        }
        text = " ".join(str(event.changes) for event in events)
        assert "73.4" not in text
        assert "72.1" not in text
        assert "Knee" not in text


def test_unit_preference(crm_a: CrmGym):
    with tenant_context(crm_a.gym):
        user = make_user(Role.CLIENT, "units@alpha.example")
        assert user.unit_system == "metric"
        services.unit_system_set(user=user, unit_system="imperial")
        user.refresh_from_db()
        assert user.unit_system == "imperial"
        with pytest.raises(ValidationError):
            services.unit_system_set(user=user, unit_system="cubits")


def test_a_measurement_cannot_be_in_the_future(crm_a: CrmGym):
    from datetime import timedelta

    from django.utils import timezone

    with tenant_context(crm_a.gym), pytest.raises(ValidationError) as caught:
        services.measurement_create(
            actor=crm_a.owner,
            client=crm_a.ann,
            weight_kg=70,
            measured_at=timezone.now() + timedelta(days=1),
        )
    assert "measured_at" in caught.value.message_dict
