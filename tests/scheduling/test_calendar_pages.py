"""The staff calendar: who may open it and whose appointments they see, the gym's time zone,
filters, classes with their counts, moving appointments (conflicts, working hours, override),
booking from the calendar, flat query counts and gym isolation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.crm import services as crm_services
from apps.scheduling.appointments.services import SchedulingConflict, appointment_book
from apps.scheduling.calendar.selectors import CalendarFilters, calendar_grid
from apps.scheduling.calendar.services import appointment_reschedule
from apps.scheduling.classes import services as class_services
from apps.scheduling.models import Appointment, ClassOccurrence, ClassType, Location, Room
from apps.tenants.models import OpeningHours
from tests.conftest import GymClient
from tests.crm.conftest import CrmGym
from tests.scheduling.conftest import ZONE, give_tom_hours

URL = "/schedule/calendar/"
# A summer week: London is on BST (UTC+1). Tuesday 7 July 2026.
MONDAY = date(2026, 7, 6)
TUESDAY_9_UTC = datetime(2026, 7, 7, 9, 0, tzinfo=UTC)  # 10:00 in London
WEEK = {"view": "week", "date": MONDAY.isoformat()}
HTMX = {"HTTP_HX_REQUEST": "true"}
DASH = "\u2013"  # between start and end times


def as_user(crm: CrmGym, role: str) -> GymClient:
    browser = GymClient(crm.gym.subdomain)
    browser.force_login(crm.user(role))
    return browser


def book(crm: CrmGym, *, trainer=None, client=None, starts_at=TUESDAY_9_UTC, room=None, minutes=60):  # type: ignore[no-untyped-def]
    return appointment_book(
        actor=crm.owner,
        trainer=trainer or crm.tina,
        client=client or crm.ann,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        room=room,
        override_availability=True,
    )


def make_class(crm: CrmGym, *, starts_at: datetime, capacity: int = 10, name: str = "Spin"):  # type: ignore[no-untyped-def]
    class_type, _ = ClassType.objects.get_or_create(name=name)
    return ClassOccurrence.objects.create(
        class_type=class_type,
        trainer=crm.tom,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        capacity=capacity,
    )


def events_html(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


class TestAccess:
    def test_anonymous_goes_to_the_login_page(self, sched_a: CrmGym) -> None:
        response = GymClient(sched_a.gym.subdomain).get(URL)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    def test_a_client_cannot_open_the_staff_calendar(self, sched_a: CrmGym) -> None:
        assert as_user(sched_a, "cara").get(URL).status_code == 403

    @pytest.mark.parametrize("role", ["owner", "manager", "desk", "tina"])
    def test_staff_open_it(self, sched_a: CrmGym, role: str) -> None:
        response = as_user(sched_a, role).get(URL)
        assert response.status_code == 200
        assert 'data-testid="calendar-grid"' in response.content.decode()

    def test_front_desk_sees_every_trainers_appointments(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            give_tom_hours(sched_a)
            book(sched_a)
            book(sched_a, trainer=sched_a.tom, client=sched_a.cara)
        body = as_user(sched_a, "desk").get(URL, WEEK).content.decode()
        assert "Ann Able" in body
        assert "Cara Cole" in body

    def test_a_trainer_sees_their_own_calendar_by_default(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            book(sched_a)
            book(sched_a, trainer=sched_a.tom, client=sched_a.cara)
            make_class(sched_a, starts_at=TUESDAY_9_UTC + timedelta(hours=3))
        tom = as_user(sched_a, "tom")
        body = tom.get(URL, WEEK).content.decode()
        assert "Cara Cole" in body
        assert "Ann Able" not in body
        assert "Spin" in body  # Tom's class
        # Choosing all trainers shows every class, but still only Tom's own appointments.
        body = tom.get(URL, {**WEEK, "trainer": "all"}).content.decode()
        assert "Cara Cole" in body
        assert "Ann Able" not in body
        # Tina's calendar, seen by Tom: her appointments stay hidden from him.
        body = tom.get(URL, {**WEEK, "trainer": sched_a.tina.pk}).content.decode()
        assert "Ann Able" not in body
        assert "Cara Cole" not in body


class TestRendering:
    def test_a_utc_instant_shows_at_the_gyms_local_hour(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            book(sched_a)
        body = as_user(sched_a, "owner").get(URL, WEEK).content.decode()
        assert f"10:00{DASH}11:00" in body
        assert f"09:00{DASH}10:00" not in body
        assert "Europe/London" in body

    def test_day_view_shows_only_that_day(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            book(sched_a)
            book(sched_a, client=sched_a.bob, starts_at=TUESDAY_9_UTC + timedelta(days=1))
        owner = as_user(sched_a, "owner")
        body = owner.get(URL, {"view": "day", "date": "2026-07-07"}).content.decode()
        assert "Ann Able" in body
        assert "Bob Baker" not in body
        assert "Tuesday 7 July 2026" in body

    def test_prev_next_and_today_links_keep_the_filters(self, sched_a: CrmGym, studio) -> None:  # type: ignore[no-untyped-def]
        body = (
            as_user(sched_a, "owner")
            .get(URL, {**WEEK, "room": studio.pk})
            .content.decode()
            .replace("&amp;", "&")
        )
        assert f"date=2026-06-29&trainer=all&room={studio.pk}" in body
        assert f"date=2026-07-13&trainer=all&room={studio.pk}" in body

    def test_filter_by_room_and_location(self, sched_a: CrmGym, studio) -> None:  # type: ignore[no-untyped-def]
        with tenant_context(sched_a.gym):
            give_tom_hours(sched_a)
            other = Location.objects.create(name="Annex")
            gym_floor = Room.objects.create(location=other, name="Floor")
            book(sched_a, room=studio)
            book(sched_a, trainer=sched_a.tom, client=sched_a.cara, room=gym_floor)
        owner = as_user(sched_a, "owner")
        body = owner.get(URL, {**WEEK, "room": studio.pk}).content.decode()
        assert "Ann Able" in body
        assert "Cara Cole" not in body
        body = owner.get(URL, {**WEEK, "location": other.pk}).content.decode()
        assert "Cara Cole" in body
        assert "Ann Able" not in body

    def test_classes_show_booked_over_capacity(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a, starts_at=TUESDAY_9_UTC, capacity=1)
            # Booked directly: the booking window of a class in July is not open yet.
            occurrence.bookings.create(client=sched_a.ann, status="booked")
            occurrence.bookings.create(client=sched_a.bob, status="waitlisted", waitlist_position=1)
        body = as_user(sched_a, "desk").get(URL, WEEK).content.decode()
        assert "1/1 booked" in body
        assert "1 waiting" in body

    def test_htmx_gets_only_the_calendar(self, sched_a: CrmGym) -> None:
        response = as_user(sched_a, "owner").get(URL, WEEK, **HTMX)
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="calendar"')
        assert "<html" not in body
        assert "HX-Request" in response["Vary"]

    def test_query_count_does_not_grow_with_the_events(self, sched_a: CrmGym) -> None:
        owner = as_user(sched_a, "owner")

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert owner.get(URL, WEEK).status_code == 200
            return len(queries)

        with tenant_context(sched_a.gym):
            book(sched_a)
            make_class(sched_a, starts_at=TUESDAY_9_UTC)
        few = count()
        with tenant_context(sched_a.gym):
            give_tom_hours(sched_a)
            for day in range(1, 5):
                start = TUESDAY_9_UTC + timedelta(days=day - 1, hours=2)
                book(sched_a, client=sched_a.bob, starts_at=start + timedelta(hours=3))
                book(sched_a, trainer=sched_a.tom, client=sched_a.cara, starts_at=start)
                occurrence = make_class(sched_a, starts_at=start, name=f"Yoga {day}")
                occurrence.bookings.create(client=sched_a.ann, status="booked")
        assert count() == few


def local(hour: int, minute: int = 0, day: date = date(2026, 7, 7)) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(ZONE))


class TestTimeGrid:
    """Events placed on rows of 15 minutes by class names (no style attributes), the opening
    hours bounding the day, columns by trainer and by room, the now line and the phone agenda."""

    def test_an_event_at_0930_for_45_minutes_spans_three_rows_from_its_start(
        self, sched_a: CrmGym
    ) -> None:
        with tenant_context(sched_a.gym):
            book(sched_a, starts_at=local(9, 30), minutes=45)
            grid = calendar_grid(
                viewer=sched_a.owner, filters=CalendarFilters(view="day", anchor=date(2026, 7, 7))
            )
        # No opening hours: the day shows from 06:00, so 09:30 is the 15th row of 15 minutes.
        assert grid.rows[0].starts_at == time(6, 0)
        (placed,) = grid.columns[0].placed
        assert (placed.row, placed.span) == (15, 3)
        assert "cal-r-15 cal-span-3" in placed.placement
        body = as_user(sched_a, "owner").get(URL, {"view": "day", "date": "2026-07-07"})
        html = body.content.decode()
        assert "cal-r-15 cal-span-3" in html
        assert "style=" not in html.split('id="calendar"', 1)[1]

    def test_the_opening_hours_bound_the_day_and_events_outside_stretch_it(
        self, sched_a: CrmGym
    ) -> None:
        filters = CalendarFilters(view="day", anchor=date(2026, 7, 7))
        with tenant_context(sched_a.gym):
            OpeningHours.objects.create(
                gym=sched_a.gym, weekday=1, opens_at=time(7, 30), closes_at=time(20, 0)
            )
            grid = calendar_grid(viewer=sched_a.owner, filters=filters)
            assert (grid.rows[0].starts_at, grid.rows[-1].starts_at) == (time(7), time(19, 45))
            book(sched_a, starts_at=local(6, 15), minutes=30)
            grid = calendar_grid(viewer=sched_a.owner, filters=filters)
        assert grid.rows[0].starts_at == time(6, 0)
        assert (grid.columns[0].placed[0].row, grid.columns[0].placed[0].span) == (2, 2)

    def test_overlapping_events_sit_side_by_side(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            give_tom_hours(sched_a)
            book(sched_a, starts_at=local(10), minutes=60)
            book(sched_a, trainer=sched_a.tom, client=sched_a.cara, starts_at=local(10, 30))
            book(sched_a, client=sched_a.bob, starts_at=local(14))
            grid = calendar_grid(
                viewer=sched_a.owner, filters=CalendarFilters(view="day", anchor=date(2026, 7, 7))
            )
        column = grid.columns[0]
        lanes = {item.event.title: (item.lane, item.lanes) for item in column.placed}
        assert lanes == {"Ann Able": (1, 2), "Cara Cole": (2, 2), "Bob Baker": (1, 1)}
        assert column.lanes == 2

    def test_the_trainer_view_has_a_column_per_trainer(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            give_tom_hours(sched_a)
            book(sched_a, starts_at=local(10))
            book(sched_a, trainer=sched_a.tom, client=sched_a.cara, starts_at=local(10))
            filters = CalendarFilters(view="trainers", anchor=date(2026, 7, 7))
            grid = calendar_grid(viewer=sched_a.owner, filters=filters)
        placed = {c.label: [p.event.title for p in c.placed] for c in grid.columns}
        assert placed[sched_a.tina.name] == ["Ann Able"]
        assert placed[sched_a.tom.name] == ["Cara Cole"]
        html = (
            as_user(sched_a, "owner")
            .get(URL, {"view": "trainers", "date": "2026-07-07"})
            .content.decode()
        )
        assert f'data-resource="trainer-{sched_a.tom.pk}"' in html
        assert "cal-view-trainers" in html

    def test_the_room_view_has_a_column_per_room_and_one_for_none(
        self, sched_a: CrmGym, studio
    ) -> None:  # type: ignore[no-untyped-def]
        with tenant_context(sched_a.gym):
            give_tom_hours(sched_a)
            book(sched_a, starts_at=local(10), room=studio)
            book(sched_a, trainer=sched_a.tom, client=sched_a.cara, starts_at=local(10))
            filters = CalendarFilters(view="rooms", anchor=date(2026, 7, 7))
            grid = calendar_grid(viewer=sched_a.owner, filters=filters)
        placed = {c.key: [p.event.title for p in c.placed] for c in grid.columns}
        assert placed[f"room-{studio.pk}"] == ["Ann Able"]
        assert placed["none"] == ["Cara Cole"]

    def test_todays_now_line_is_placed_by_row_and_minutes(self, sched_a: CrmGym) -> None:
        filters = CalendarFilters(view="week", anchor=date(2026, 7, 7))
        with tenant_context(sched_a.gym):
            grid = calendar_grid(viewer=sched_a.owner, filters=filters, now=local(10, 7))
            assert grid.now is not None
            assert (grid.now.row, grid.now.offset) == (17, 7)
            assert [c.is_today for c in grid.columns].index(True) == 1
            # Another week: no line.
            later = CalendarFilters(view="week", anchor=date(2026, 7, 14))
            assert calendar_grid(viewer=sched_a.owner, filters=later, now=local(10, 7)).now is None

    def test_phones_get_an_agenda_of_the_same_events(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            book(sched_a)
            make_class(sched_a, starts_at=TUESDAY_9_UTC + timedelta(days=2))
        html = as_user(sched_a, "owner").get(URL, WEEK).content.decode()
        agenda = html.split('data-testid="calendar-agenda"', 1)[1]
        assert agenda.count('data-testid="agenda-event"') == 2
        assert agenda.index("Tuesday 7 July") < agenda.index("Ann Able") < agenda.index("Spin")

    @pytest.mark.parametrize("view", ["trainers", "rooms", "day"])
    def test_every_view_keeps_its_query_count_flat(self, sched_a: CrmGym, view: str) -> None:
        owner = as_user(sched_a, "owner")
        params = {"view": view, "date": "2026-07-07"}

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert owner.get(URL, params).status_code == 200
            return len(queries)

        with tenant_context(sched_a.gym):
            book(sched_a)
        few = count()
        with tenant_context(sched_a.gym):
            give_tom_hours(sched_a)
            room = Room.objects.create(location=Location.objects.create(name="Hall"), name="Big")
            for hour in (12, 14, 16):
                book(sched_a, client=sched_a.bob, starts_at=local(hour), room=room)
                book(sched_a, trainer=sched_a.tom, client=sched_a.cara, starts_at=local(hour))
                make_class(sched_a, starts_at=local(hour, 30), name=f"Yoga {hour}")
        assert count() == few


class TestMove:
    def move_url(self, appointment: Appointment) -> str:
        return f"/schedule/calendar/appointments/{appointment.pk}/move/"

    def test_owner_moves_an_appointment_by_drag_and_drop(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            appointment = book(sched_a)
        response = as_user(sched_a, "owner").post(
            self.move_url(appointment),
            {**WEEK, "new_date": "2026-07-08", "new_time": "14:30"},
            **HTMX,
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert "Moved Ann Able to 2026-07-08 14:30" in body
        assert f"14:30{DASH}15:30" in body
        with tenant_context(sched_a.gym):
            appointment.refresh_from_db()
            assert appointment.starts_at == datetime(2026, 7, 8, 13, 30, tzinfo=UTC)
            assert appointment.ends_at - appointment.starts_at == timedelta(hours=1)
            assert AuditEvent.objects.filter(
                action="appointment.rescheduled", object_id=str(appointment.pk)
            ).exists()

    def test_a_clash_shows_a_clear_error_and_changes_nothing(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            appointment = book(sched_a)
            book(sched_a, client=sched_a.bob, starts_at=TUESDAY_9_UTC + timedelta(hours=3))
        response = as_user(sched_a, "owner").post(
            self.move_url(appointment),
            {**WEEK, "new_date": "2026-07-07", "new_time": "13:30"},
            **HTMX,
        )
        body = response.content.decode()
        assert 'data-testid="calendar-error"' in body
        assert "The trainer is already booked from 2026-07-07 13:00 to 14:00." in body
        with tenant_context(sched_a.gym):
            appointment.refresh_from_db()
            assert appointment.starts_at == TUESDAY_9_UTC

    def test_a_room_clash_is_refused_too(self, sched_a: CrmGym, studio) -> None:  # type: ignore[no-untyped-def]
        with tenant_context(sched_a.gym):
            give_tom_hours(sched_a)
            appointment = book(sched_a, room=studio)
            other = book(
                sched_a,
                trainer=sched_a.tom,
                client=sched_a.cara,
                room=studio,
                starts_at=TUESDAY_9_UTC + timedelta(hours=2),
            )
            with pytest.raises(SchedulingConflict) as caught:
                appointment_reschedule(
                    actor=sched_a.owner,
                    appointment=appointment,
                    starts_at=TUESDAY_9_UTC + timedelta(hours=2, minutes=30),
                )
            assert caught.value.field == "room"
            assert caught.value.other == other

    def test_outside_working_hours_needs_a_managers_override(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            appointment = book(sched_a)
        evening = {**WEEK, "new_date": "2026-07-08", "new_time": "20:00"}  # Tina stops at 17:00
        desk = as_user(sched_a, "desk")
        body = desk.post(self.move_url(appointment), evening, **HTMX).content.decode()
        assert "The trainer does not work at that time." in body
        body = desk.post(
            self.move_url(appointment), {**evening, "override": "on"}, **HTMX
        ).content.decode()
        assert "Only owners and managers can book outside working hours." in body
        body = (
            as_user(sched_a, "manager")
            .post(self.move_url(appointment), {**evening, "override": "on"}, **HTMX)
            .content.decode()
        )
        assert "Moved Ann Able" in body
        with tenant_context(sched_a.gym):
            appointment.refresh_from_db()
            assert appointment.starts_at == datetime(2026, 7, 8, 19, 0, tzinfo=UTC)

    def test_a_trainer_moves_their_own_but_not_anothers(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            appointment = book(sched_a)
        target = {**WEEK, "new_date": "2026-07-07", "new_time": "15:00"}
        assert as_user(sched_a, "tom").post(self.move_url(appointment), target).status_code == 404
        response = as_user(sched_a, "tina").post(self.move_url(appointment), target)
        assert response.status_code == 302
        with tenant_context(sched_a.gym):
            appointment.refresh_from_db()
            assert appointment.starts_at == datetime(2026, 7, 7, 14, 0, tzinfo=UTC)

    def test_a_trainer_cannot_move_another_trainers_session_in_the_service(
        self, sched_a: CrmGym
    ) -> None:
        with tenant_context(sched_a.gym):
            appointment = book(sched_a)
            with pytest.raises(PermissionDenied):
                appointment_reschedule(
                    actor=sched_a.tom.user, appointment=appointment, starts_at=TUESDAY_9_UTC
                )

    def test_a_cancelled_appointment_cannot_be_moved(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            appointment = book(sched_a)
            Appointment.objects.filter(pk=appointment.pk).update(status="cancelled")
            with pytest.raises(ValidationError):
                appointment_reschedule(
                    actor=sched_a.owner,
                    appointment=appointment,
                    starts_at=TUESDAY_9_UTC + timedelta(hours=1),
                )

    def test_the_move_form_without_javascript(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            appointment = book(sched_a)
        owner = as_user(sched_a, "owner")
        page = owner.get(self.move_url(appointment), WEEK)
        assert page.status_code == 200
        assert 'value="2026-07-07"' in page.content.decode()
        assert 'value="10:00"' in page.content.decode()
        response = owner.post(
            self.move_url(appointment), {**WEEK, "new_date": "2026-07-09", "new_time": "11:00"}
        )
        assert response.status_code == 302
        assert "date=2026-07-09" in response["Location"]

    def test_a_client_cannot_move_anything(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            give_tom_hours(sched_a)
            appointment = book(sched_a, trainer=sched_a.tom, client=sched_a.cara)
        response = as_user(sched_a, "cara").post(
            self.move_url(appointment), {"new_date": "2026-07-08", "new_time": "10:00"}
        )
        assert response.status_code == 403


class TestNewAppointment:
    URL = "/schedule/calendar/appointments/new/"

    def test_owner_books_from_the_calendar(self, sched_a: CrmGym, studio) -> None:  # type: ignore[no-untyped-def]
        owner = as_user(sched_a, "owner")
        page = owner.get(self.URL, {"date": "2026-07-07", "time": "10:00"})
        assert page.status_code == 200
        response = owner.post(
            self.URL,
            {
                "trainer": sched_a.tina.pk,
                "client": sched_a.ann.pk,
                "room": studio.pk,
                "day": "2026-07-07",
                "start": "10:00",
                "duration_minutes": 45,
            },
        )
        assert response.status_code == 302
        with tenant_context(sched_a.gym):
            appointment = Appointment.objects.get(client=sched_a.ann)
            assert appointment.starts_at == TUESDAY_9_UTC
            assert appointment.ends_at == TUESDAY_9_UTC + timedelta(minutes=45)

    def test_a_clash_is_shown_on_the_form(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            book(sched_a)
        response = as_user(sched_a, "owner").post(
            self.URL,
            {
                "trainer": sched_a.tina.pk,
                "client": sched_a.bob.pk,
                "day": "2026-07-07",
                "start": "10:30",
                "duration_minutes": 60,
            },
        )
        assert response.status_code == 400
        assert "The trainer is already booked from 2026-07-07 10:00 to 11:00." in (
            response.content.decode()
        )

    def test_a_trainer_books_only_their_own_clients(self, sched_a: CrmGym) -> None:
        tina = as_user(sched_a, "tina")
        page = tina.get(self.URL).content.decode()
        assert "Ann Able" in page
        assert "Cara Cole" not in page
        response = tina.post(
            self.URL,
            {
                "trainer": sched_a.tina.pk,
                "client": sched_a.cara.pk,
                "day": "2026-07-07",
                "start": "10:00",
                "duration_minutes": 60,
            },
        )
        assert response.status_code == 400
        with tenant_context(sched_a.gym):
            assert not Appointment.objects.filter(client=sched_a.cara).exists()


class TestIsolation:
    def test_gym_a_staff_get_nothing_from_gym_b(self, sched_a: CrmGym, crm_b: CrmGym) -> None:
        with tenant_context(crm_b.gym):
            appointment = appointment_book(
                actor=crm_b.owner,
                trainer=crm_b.tina,
                client=crm_b.ann,
                starts_at=TUESDAY_9_UTC,
                ends_at=TUESDAY_9_UTC + timedelta(hours=1),
                override_availability=True,
            )
            crm_services.client_update(actor=crm_b.owner, client=crm_b.ann, first_name="Bravoann")
        owner_a = as_user(sched_a, "owner")
        # Gym A's session means nothing on gym B's host.
        response = GymClient(crm_b.gym.subdomain)
        response.cookies["sessionid"] = owner_a.cookies["sessionid"].value
        assert response.get(URL, WEEK).status_code == 302
        # And on gym A's host, gym B's appointment is not there to see or move.
        assert "Bravoann" not in owner_a.get(URL, WEEK).content.decode()
        with tenant_context(sched_a.gym):
            exists_in_a = Appointment.objects.filter(pk=appointment.pk).exists()
        if not exists_in_a:
            move = f"/schedule/calendar/appointments/{appointment.pk}/move/"
            assert (
                owner_a.post(move, {"new_date": "2026-07-08", "new_time": "10:00"}).status_code
                == 404
            )
        with tenant_context(crm_b.gym):
            appointment.refresh_from_db()
            assert appointment.starts_at == TUESDAY_9_UTC


def test_class_services_still_answer_the_calendar(sched_a: CrmGym) -> None:
    """The counts come from the same bookings class_book makes."""
    with tenant_context(sched_a.gym):
        soon = timezone.now() + timedelta(days=1)
        occurrence = make_class(sched_a, starts_at=soon, capacity=5)
        class_services.class_book(actor=sched_a.owner, occurrence=occurrence, client=sched_a.ann)
        local_day = soon.astimezone(ZoneInfo(ZONE)).date()
    body = (
        as_user(sched_a, "owner")
        .get(URL, {"view": "week", "date": local_day.isoformat(), "trainer": "all"})
        .content.decode()
    )
    assert "1/5 booked" in body
