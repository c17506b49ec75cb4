"""Booking rules: working hours (in the gym's time zone), overrides, conflicts, roles, and free
slots that keep their local time across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.scheduling.appointments import selectors, services
from apps.scheduling.appointments.services import SchedulingConflict
from apps.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    ExceptionKind,
    Room,
)
from tests.crm.conftest import CrmGym

LONDON = ZoneInfo("Europe/London")
# Tuesday 1 December 2037, in the future so clients may book it; London is on GMT then, so
# local and UTC hours agree.
TUE = date(2037, 12, 1)


def at(hour: int, minute: int = 0, day: date = TUE) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def book(crm: CrmGym, actor: object = None, **fields: object) -> Appointment:
    values: dict = {
        "actor": actor or crm.desk,
        "trainer": crm.tina,
        "client": crm.ann,
        "starts_at": at(10),
        "ends_at": at(11),
    }
    values.update(fields)
    return services.appointment_book(**values)


class TestAvailability:
    def test_inside_hours_books_and_is_audited(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            appointment = book(sched_a)
            assert appointment.status == AppointmentStatus.BOOKED
            assert AuditEvent.objects.filter(
                action="appointment.booked", object_id=str(appointment.pk)
            ).exists()

    def test_outside_hours_is_refused(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym), pytest.raises(ValidationError) as error:
            book(sched_a, starts_at=at(16, 30), ends_at=at(17, 30))
        assert "starts_at" in error.value.message_dict

    def test_windows_are_in_the_gyms_time_zone(self, sched_a: CrmGym) -> None:
        # 1 July is BST: 09:00 local is 08:00 UTC, so 08:00-09:00 UTC is inside the window.
        with tenant_context(sched_a.gym):
            july = date(2027, 7, 6)
            book(
                sched_a,
                starts_at=datetime(2027, 7, 6, 8, tzinfo=UTC),
                ends_at=datetime(2027, 7, 6, 9, tzinfo=UTC),
            )
            with pytest.raises(ValidationError):
                book(sched_a, starts_at=at(7, day=july), ends_at=at(9, day=july))

    def test_manager_overrides_but_front_desk_cannot(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            with pytest.raises(PermissionDenied):
                book(sched_a, starts_at=at(21), ends_at=at(22), override_availability=True)
            book(
                sched_a,
                actor=sched_a.manager,
                starts_at=at(21),
                ends_at=at(22),
                override_availability=True,
            )

    def test_time_off_and_extra_hours(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            AvailabilityException.objects.create(
                trainer=sched_a.tina,
                starts_at=at(12),
                ends_at=at(14),
                kind=ExceptionKind.TIME_OFF,
            )
            AvailabilityException.objects.create(
                trainer=sched_a.tina, starts_at=at(7), ends_at=at(9), kind=ExceptionKind.EXTRA
            )
            with pytest.raises(ValidationError):
                book(sched_a, starts_at=at(13), ends_at=at(14))
            # Extra hours join the weekly window: 08:00-10:00 is one stretch of work.
            book(sched_a, starts_at=at(8), ends_at=at(10))
            assert selectors.is_available(trainer=sched_a.tina, starts_at=at(11), ends_at=at(12))
            assert not selectors.is_available(
                trainer=sched_a.tina, starts_at=at(11), ends_at=at(13)
            )

    def test_bad_times_name_the_field(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym), pytest.raises(ValidationError) as error:
            book(sched_a, starts_at=at(11), ends_at=at(10))
        assert "ends_at" in error.value.message_dict


class TestConflicts:
    def test_trainer_conflict_names_the_other_appointment(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            first = book(sched_a)
            with pytest.raises(SchedulingConflict) as error:
                book(sched_a, client=sched_a.bob, starts_at=at(10, 30), ends_at=at(11, 30))
            assert error.value.field == "trainer"
            assert error.value.other == first
            assert first.starts_at.isoformat() in error.value.message
            assert Appointment.objects.count() == 1

    def test_room_conflict(self, sched_a: CrmGym, studio: Room) -> None:
        with tenant_context(sched_a.gym):
            book(sched_a, room=studio)
            with pytest.raises(SchedulingConflict) as error:
                book(
                    sched_a,
                    actor=sched_a.manager,
                    trainer=sched_a.tom,
                    client=sched_a.cara,
                    room=studio,
                    override_availability=True,
                )
            assert error.value.field == "room"

    def test_cancel_frees_the_slot_and_rebooking_it_conflicts(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            first = book(sched_a)
            services.appointment_cancel(actor=sched_a.desk, appointment=first, waive_late=True)
            assert first.status == AppointmentStatus.CANCELLED
            book(sched_a, client=sched_a.bob)
            with pytest.raises(SchedulingConflict):
                services.appointment_set_status(
                    actor=sched_a.manager, appointment=first, status=AppointmentStatus.BOOKED
                )

    def test_database_race_becomes_a_conflict(self, sched_a: CrmGym) -> None:
        # The pre-check cannot see a row committed by a concurrent booking; the exclusion
        # constraint's IntegrityError must still surface as a SchedulingConflict.
        with tenant_context(sched_a.gym):
            other = book(sched_a)
            late = Appointment(
                trainer=sched_a.tina, client=sched_a.bob, starts_at=at(10), ends_at=at(11)
            )
            with pytest.raises(SchedulingConflict) as error:
                services.save_or_conflict(late)
            assert error.value.other == other


class TestRoles:
    def test_trainer_books_own_assigned_clients_only(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            tina = sched_a.tina.user
            book(sched_a, actor=tina)
            with pytest.raises(PermissionDenied):
                book(sched_a, actor=tina, client=sched_a.bob, starts_at=at(12), ends_at=at(13))
            with pytest.raises(PermissionDenied):
                book(sched_a, actor=sched_a.tom.user, starts_at=at(12), ends_at=at(13))

    def test_client_books_self_with_own_trainer_only(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            from tests.scheduling.conftest import give_tom_hours

            give_tom_hours(sched_a)
            cara = sched_a.cara_user
            book(sched_a, actor=cara, trainer=sched_a.tom, client=sched_a.cara)
            with pytest.raises(PermissionDenied):
                book(sched_a, actor=cara, client=sched_a.cara, starts_at=at(12), ends_at=at(13))
            with pytest.raises(PermissionDenied):
                book(sched_a, actor=cara, trainer=sched_a.tom, starts_at=at(12), ends_at=at(13))

    def test_late_cancel_by_client(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            from tests.scheduling.conftest import give_tom_hours

            give_tom_hours(sched_a)
            soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
            appointment = book(
                sched_a,
                actor=sched_a.manager,
                trainer=sched_a.tom,
                client=sched_a.cara,
                starts_at=soon,
                ends_at=soon + timedelta(hours=1),
                override_availability=True,
            )
            with pytest.raises(PermissionDenied):
                services.appointment_cancel(
                    actor=sched_a.cara_user, appointment=appointment, waive_late=True
                )
            services.appointment_cancel(actor=sched_a.cara_user, appointment=appointment)
            assert appointment.status == AppointmentStatus.LATE_CANCELLED
            with pytest.raises(PermissionDenied):
                services.appointment_set_status(
                    actor=sched_a.cara_user,
                    appointment=appointment,
                    status=AppointmentStatus.COMPLETED,
                )

    def test_appointment_list_by_role(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            from tests.scheduling.conftest import give_tom_hours

            give_tom_hours(sched_a)
            mine = book(sched_a)
            toms = book(sched_a, trainer=sched_a.tom, client=sched_a.cara)
            assert set(selectors.appointment_list(viewer=sched_a.desk)) == {mine, toms}
            assert set(selectors.appointment_list(viewer=sched_a.owner)) == {mine, toms}
            assert set(selectors.appointment_list(viewer=sched_a.tina.user)) == {mine}
            assert set(selectors.appointment_list(viewer=sched_a.cara_user)) == {toms}


class TestFreeSlots:
    def test_free_slots_skip_booked_time(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            book(sched_a)
            slots = selectors.free_slots(trainer=sched_a.tina, date_from=TUE, date_to=TUE)
            hours = [slot.astimezone(LONDON).hour for slot in slots]
            assert hours == [9, 11, 12, 13, 14, 15, 16, 18, 19]
            assert all(slot.tzinfo == UTC for slot in slots)

    @pytest.mark.parametrize(
        ("before", "after", "utc_before", "utc_after"),
        [
            # Clocks go forward on Sunday 29 March 2026.
            (date(2026, 3, 24), date(2026, 3, 31), 18, 17),
            # Clocks go back on Sunday 25 October 2026.
            (date(2026, 10, 20), date(2026, 10, 27), 17, 18),
        ],
    )
    def test_weekly_18_00_window_stays_18_00_local_across_dst(
        self, sched_a: CrmGym, before: date, after: date, utc_before: int, utc_after: int
    ) -> None:
        with tenant_context(sched_a.gym):
            slots = selectors.free_slots(trainer=sched_a.tina, date_from=before, date_to=after)
        evening = [slot for slot in slots if slot.astimezone(LONDON).hour >= 18]
        first_of_day = {}
        for slot in evening:
            first_of_day.setdefault(slot.astimezone(LONDON).date(), slot)
        assert set(first_of_day) == {before, after}
        assert first_of_day[before].astimezone(LONDON).hour == 18
        assert first_of_day[after].astimezone(LONDON).hour == 18
        assert first_of_day[before].hour == utc_before
        assert first_of_day[after].hour == utc_after


def test_trainer_marks_own_session_completed_or_no_show(sched_a: CrmGym) -> None:
    with tenant_context(sched_a.gym):
        appointment = book(sched_a)
        services.appointment_set_status(
            actor=sched_a.tina.user, appointment=appointment, status=AppointmentStatus.NO_SHOW
        )
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.NO_SHOW
        with pytest.raises(PermissionDenied):
            services.appointment_set_status(
                actor=sched_a.tom.user, appointment=appointment, status="completed"
            )
        with pytest.raises(ValidationError):
            services.appointment_set_status(
                actor=sched_a.manager, appointment=appointment, status="lost"
            )
        assert AuditEvent.objects.filter(action="appointment.status_set").count() == 1
