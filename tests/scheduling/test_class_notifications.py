"""Class bookings tell clients through the notification service: a confirmed spot (not a
place on the waitlist), a spot from the waitlist and a cancelled class, once per booking and
channel, after the commit, within the client's own choices."""

from __future__ import annotations

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from apps.notifications.models import Delivery
from apps.scheduling.classes import services as class_services
from apps.scheduling.classes import timetable
from tests.crm.conftest import CrmGym
from tests.scheduling.test_classes import make_class

pytestmark = pytest.mark.django_db


def _kinds(kind: str) -> list[tuple[str, str]]:
    return sorted(Delivery.objects.filter(kind=kind).values_list("channel", "address"))


def test_a_spot_is_confirmed_once_and_a_waitlist_place_is_not(
    sched_a: CrmGym, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(sched_a.gym):
        occurrence = make_class(sched_a, capacity=1)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            booking = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann
            )
            # Nothing is recorded before the booking commits and the class's lock is released.
            assert not Delivery.objects.filter(kind="booking_confirmed").exists()
        with django_capture_on_commit_callbacks(execute=True):
            class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=sched_a.bob)
        assert _kinds("booking_confirmed") == [("email", sched_a.ann.email)]
        delivery = Delivery.objects.get(kind="booking_confirmed")
        assert delivery.event_key == f"booking_confirmed:class:{booking.pk}:c{sched_a.ann.pk}"
    assert [m.to for m in mail.outbox] == [[sched_a.ann.email]]
    assert mail.outbox[0].subject.startswith("Booked: ")


def test_promotion_and_cancellation_are_recorded_per_client(
    sched_a: CrmGym, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(sched_a.gym):
        occurrence = make_class(sched_a, capacity=1)
        first = class_services.class_book(
            actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann
        )
        class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=sched_a.bob)
        with django_capture_on_commit_callbacks(execute=True):
            class_services.class_cancel(actor=sched_a.desk, booking=first)
        assert _kinds("waitlist_promoted") == [("email", sched_a.bob.email)]
        sched_a.bob.notify_by_email = False
        sched_a.bob.save(update_fields=["notify_by_email"])
        with django_capture_on_commit_callbacks(execute=True):
            timetable.occurrence_cancel(
                actor=sched_a.manager, occurrence=occurrence, reason="Coach is ill"
            )
        # Bob switched email off: nothing for him; Ann's booking was cancelled before.
        assert _kinds("class_cancelled") == []


def test_a_booked_session_is_confirmed_after_the_commit(
    sched_a: CrmGym, django_capture_on_commit_callbacks
) -> None:
    from datetime import UTC, datetime, timedelta

    from apps.scheduling.appointments.services import appointment_book

    starts_at = datetime(2030, 7, 2, 9, 0, tzinfo=UTC)
    with tenant_context(sched_a.gym):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            appointment = appointment_book(
                actor=sched_a.owner,
                trainer=sched_a.tina,
                client=sched_a.ann,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=1),
                override_availability=True,
            )
        delivery = Delivery.objects.get(kind="booking_confirmed")
        assert delivery.event_key == (
            f"booking_confirmed:appointment:{appointment.pk}:c{sched_a.ann.pk}"
        )
    assert [m.to for m in mail.outbox] == [[sched_a.ann.email]]
    assert "a session with Tina Trainer" in mail.outbox[0].body
