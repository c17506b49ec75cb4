"""The class pages of the staff app: class types, the timetable builder (the rule is built from
ticked days, and an unreadable rule is a field error, in the admin too), editing one class or
all following, cancelling with emails to the booked clients, the roster with one-tap check-in,
who may use which page, gym isolation and query counts that do not grow with the rows."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.scheduling.classes import services as class_services
from apps.scheduling.classes import timetable
from apps.scheduling.classes.recurrence import rule_weekdays, weekly_rule
from apps.scheduling.models import (
    ClassBooking,
    ClassBookingStatus,
    ClassOccurrence,
    ClassSeries,
    ClassType,
    Room,
)
from apps.tenants.selectors import gym_today
from tests.conftest import GymClient
from tests.crm.conftest import CrmGym
from tests.scheduling.conftest import ZONE
from tests.scheduling.test_admin import admin  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo(ZONE)
HTMX = {"HTTP_HX_REQUEST": "true"}
LIST = "/schedule/classes/"
TYPES = "/schedule/classes/types/"
BUILDER = "/schedule/classes/timetable/new/"


def as_user(crm: CrmGym, role: str) -> GymClient:
    browser = GymClient(crm.gym.subdomain)
    browser.force_login(crm.user(role))
    return browser


def next_monday(crm: CrmGym) -> date:
    with tenant_context(crm.gym):
        today = gym_today()
    return today + timedelta(days=7 - today.weekday())


def spin(**fields: object) -> ClassType:
    values: dict = {"name": "Spin", "default_capacity": 2, "duration_minutes": 45}
    values.update(fields)
    return ClassType.objects.create(**values)


def build_series(
    crm: CrmGym, *, starts_on: date, capacity: int = 2, name: str = "Spin"
) -> ClassSeries:
    """Spin every Monday and Wednesday at 18:00 with Tina, through the service (inside the
    gym)."""
    return timetable.series_create(
        actor=crm.owner,
        class_type=spin(name=name),
        rrule="FREQ=WEEKLY;BYDAY=MO,WE",
        local_start_time=time(18),
        duration_minutes=45,
        capacity=capacity,
        starts_on=starts_on,
        trainer=crm.tina,
    )


def class_soon(crm: CrmGym, *, trainer: object = None, capacity: int = 2) -> ClassOccurrence:
    """A class starting in 30 minutes: open for check-in."""
    starts_at = timezone.now() + timedelta(minutes=30)
    return ClassOccurrence.objects.create(
        class_type=spin(name=f"Spin {ClassType.objects.count()}"),
        trainer=trainer if trainer is not None else crm.tina,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        capacity=capacity,
    )


def local(moment: datetime) -> tuple[date, time]:
    moment = moment.astimezone(LONDON)
    return moment.date(), moment.time()


# --- The rule -----------------------------------------------------------------------------------


class TestRule:
    def test_ticked_days_become_an_rfc5545_rule(self) -> None:
        assert weekly_rule(weekdays=[2, 0]) == "FREQ=WEEKLY;BYDAY=MO,WE"
        assert weekly_rule(weekdays=[6]) == "FREQ=WEEKLY;BYDAY=SU"
        assert rule_weekdays("FREQ=WEEKLY;BYDAY=MO,WE") == [0, 2]

    def test_no_day_is_not_a_rule(self) -> None:
        with pytest.raises(ValueError, match="weekdays"):
            weekly_rule(weekdays=[])

    def test_a_rule_the_admin_stored_badly_shows_no_days(self) -> None:
        assert rule_weekdays("every Monday and Wednesday") == []

    def test_the_service_refuses_an_unreadable_rule_on_its_field(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            with pytest.raises(ValidationError) as error:
                timetable.series_create(
                    actor=sched_a.owner,
                    class_type=spin(),
                    rrule="every Monday and Wednesday",
                    local_start_time=time(18),
                    duration_minutes=45,
                    capacity=10,
                    starts_on=gym_today(),
                )
            assert "rrule" in error.value.message_dict
            assert not ClassSeries.objects.exists()

    def test_the_admin_answers_a_typed_rule_with_a_field_error(
        self,
        crm_a: CrmGym,
        admin: GymClient,  # noqa: F811
    ) -> None:
        with tenant_context(crm_a.gym):
            class_type = spin()
        response = admin.post(
            "/admin/scheduling/classseries/add/",
            {
                "class_type": class_type.pk,
                "capacity": 12,
                "local_start_time": "18:00",
                "duration_minutes": 45,
                "rrule": "every Monday and Wednesday",
                "starts_on": "2037-01-05",
            },
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert "errors field-rrule" in body or "field-rrule" in body
        assert "Not a recurrence rule" in body
        with tenant_context(crm_a.gym):
            assert not ClassSeries.objects.exists()


# --- Who may use which page ------------------------------------------------------------------


class TestAccess:
    def test_anonymous_goes_to_the_login_page(self, sched_a: CrmGym) -> None:
        response = GymClient(sched_a.gym.subdomain).get(LIST)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    def test_a_client_gets_no_class_page(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = class_soon(sched_a)
        cara = as_user(sched_a, "cara")
        for url in (LIST, TYPES, BUILDER, f"/schedule/classes/{occurrence.pk}/"):
            assert cara.get(url).status_code == 403

    @pytest.mark.parametrize("role", ["owner", "manager", "desk", "tina"])
    def test_staff_open_the_class_list(self, sched_a: CrmGym, role: str) -> None:
        response = as_user(sched_a, role).get(LIST)
        assert response.status_code == 200
        assert 'data-testid="class-week"' in response.content.decode()

    @pytest.mark.parametrize("role", ["desk", "tina"])
    def test_only_management_manages_classes(self, sched_a: CrmGym, role: str) -> None:
        with tenant_context(sched_a.gym):
            occurrence = class_soon(sched_a)
            class_type = occurrence.class_type
        browser = as_user(sched_a, role)
        for url in (
            TYPES,
            "/schedule/classes/types/new/",
            f"/schedule/classes/types/{class_type.pk}/",
            BUILDER,
            f"/schedule/classes/{occurrence.pk}/edit/",
            f"/schedule/classes/{occurrence.pk}/cancel/",
        ):
            assert browser.get(url).status_code == 403, url
        assert browser.post(f"/schedule/classes/{occurrence.pk}/cancel/").status_code == 403
        with tenant_context(sched_a.gym):
            assert not ClassOccurrence.objects.get(pk=occurrence.pk).is_cancelled

    def test_the_list_offers_management_links_to_management_only(self, sched_a: CrmGym) -> None:
        assert BUILDER in as_user(sched_a, "owner").get(LIST).content.decode()
        assert BUILDER not in as_user(sched_a, "desk").get(LIST).content.decode()

    def test_a_trainer_sees_and_opens_only_their_own_classes(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            tinas = class_soon(sched_a)
            toms = class_soon(sched_a, trainer=sched_a.tom)
        tom = as_user(sched_a, "tom")
        body = tom.get(LIST).content.decode()
        assert f'data-occurrence="{toms.pk}"' in body
        assert f'data-occurrence="{tinas.pk}"' not in body
        assert tom.get(f"/schedule/classes/{tinas.pk}/").status_code == 404
        assert tom.get(f"/schedule/classes/{toms.pk}/").status_code == 200
        # The front desk opens every roster.
        desk = as_user(sched_a, "desk")
        assert desk.get(f"/schedule/classes/{tinas.pk}/").status_code == 200


# --- Class types -------------------------------------------------------------------------------


class TestClassTypes:
    def test_create_list_and_edit(self, sched_a: CrmGym) -> None:
        owner = as_user(sched_a, "owner")
        assert owner.get("/schedule/classes/types/new/").status_code == 200
        response = owner.post(
            "/schedule/classes/types/new/",
            {
                "name": "Yoga",
                "description": "Slow flow.",
                "default_capacity": 14,
                "duration_minutes": 60,
                "colour": "#22aa66",
                "booking_opens_days": 14,
                "booking_closes_minutes": 0,
                "late_cancel_minutes": 720,
            },
        )
        assert response.status_code == 302
        with tenant_context(sched_a.gym):
            yoga = ClassType.objects.get(name="Yoga")
            assert yoga.default_capacity == 14
            assert AuditEvent.objects.filter(action="class_type.created").count() == 1
        assert "Yoga" in owner.get(TYPES).content.decode()
        response = owner.post(
            f"/schedule/classes/types/{yoga.pk}/",
            {
                "name": "Yoga flow",
                "default_capacity": 16,
                "duration_minutes": 75,
                "colour": "#22aa66",
                "booking_opens_days": 14,
                "booking_closes_minutes": 0,
                "late_cancel_minutes": 720,
            },
        )
        assert response.status_code == 302
        with tenant_context(sched_a.gym):
            yoga.refresh_from_db()
            assert (yoga.name, yoga.duration_minutes) == ("Yoga flow", 75)
            assert AuditEvent.objects.filter(action="class_type.updated").count() == 1

    def test_a_duplicate_name_is_a_field_error(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            spin()
        response = as_user(sched_a, "manager").post(
            "/schedule/classes/types/new/",
            {
                "name": "Spin",
                "default_capacity": 10,
                "duration_minutes": 45,
                "colour": "#3366cc",
                "booking_opens_days": 14,
                "booking_closes_minutes": 0,
                "late_cancel_minutes": 720,
            },
        )
        assert response.status_code == 200
        assert 'id="id_name-error"' in response.content.decode()


# --- The timetable builder ------------------------------------------------------------------


class TestBuilder:
    def builder_post(self, crm: CrmGym, **fields: object) -> dict:
        with tenant_context(crm.gym):
            class_type = ClassType.objects.first() or spin()
            studio = Room.objects.get(name="Studio")
        data: dict = {
            "class_type": class_type.pk,
            "weekdays": ["0", "2"],
            "local_start_time": "18:00",
            "duration_minutes": "45",
            "trainer": crm.tina.pk,
            "room": studio.pk,
            "capacity": "12",
            "starts_on": next_monday(crm).isoformat(),
            "ends_on": "",
        }
        data.update(fields)
        return data

    def test_the_page_asks_for_a_class_type_first(self, sched_a: CrmGym) -> None:
        body = as_user(sched_a, "owner").get(BUILDER).content.decode()
        assert 'data-testid="no-class-types"' in body
        assert 'name="rrule"' not in body

    def test_days_as_checkboxes_and_no_rule_to_type(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            spin()
        body = as_user(sched_a, "owner").get(BUILDER).content.decode()
        assert body.count('type="checkbox" name="weekdays"') == 7
        assert 'name="rrule"' not in body

    def test_monday_and_wednesday_at_six_builds_the_rule_and_the_classes(
        self, sched_a: CrmGym
    ) -> None:
        monday = next_monday(sched_a)
        response = as_user(sched_a, "owner").post(BUILDER, self.builder_post(sched_a))
        assert response.status_code == 302
        assert response["Location"] == f"{LIST}?date={monday.isoformat()}"
        with tenant_context(sched_a.gym):
            series = ClassSeries.objects.get()
            assert series.rrule == "FREQ=WEEKLY;BYDAY=MO,WE"
            assert (series.trainer, series.room.name) == (sched_a.tina, "Studio")
            occurrences = list(series.occurrences.order_by("starts_at"))
            # From next Monday to eight weeks from today: Mondays and Wednesdays only, all
            # at 18:00 London time whatever the clocks do.
            assert 14 <= len(occurrences) <= 16
            assert {local(o.starts_at)[0].weekday() for o in occurrences} == {0, 2}
            assert {local(o.starts_at)[1] for o in occurrences} == {time(18)}
            assert local(occurrences[0].starts_at)[0] == monday
            assert {o.capacity for o in occurrences} == {12}
            assert all(o.ends_at - o.starts_at == timedelta(minutes=45) for o in occurrences)
            assert AuditEvent.objects.filter(action="class_series.created").count() == 1
        body = as_user(sched_a, "owner").get(LIST, {"date": monday.isoformat()}).content.decode()
        assert body.count('data-testid="class-row"') == 2
        assert "Mon, Wed" in body  # the weekly timetable

    def test_no_day_ticked_is_a_field_error(self, sched_a: CrmGym) -> None:
        response = as_user(sched_a, "owner").post(BUILDER, self.builder_post(sched_a, weekdays=[]))
        assert response.status_code == 200
        body = response.content.decode()
        assert "Tick at least one day." in body
        with tenant_context(sched_a.gym):
            assert not ClassSeries.objects.exists()

    def test_a_day_that_is_no_weekday_is_refused(self, sched_a: CrmGym) -> None:
        response = as_user(sched_a, "owner").post(
            BUILDER, self.builder_post(sched_a, weekdays=["9"])
        )
        assert response.status_code == 200
        assert 'id="id_weekdays-error"' in response.content.decode()

    def test_an_end_before_the_start_is_refused(self, sched_a: CrmGym) -> None:
        monday = next_monday(sched_a)
        response = as_user(sched_a, "owner").post(
            BUILDER,
            self.builder_post(sched_a, ends_on=(monday - timedelta(days=1)).isoformat()),
        )
        assert response.status_code == 200
        assert "The end date must be on or after the start date." in response.content.decode()
        with tenant_context(sched_a.gym):
            assert not ClassSeries.objects.exists()

    def test_an_end_date_stops_the_classes(self, sched_a: CrmGym) -> None:
        monday = next_monday(sched_a)
        response = as_user(sched_a, "owner").post(
            BUILDER, self.builder_post(sched_a, ends_on=(monday + timedelta(days=7)).isoformat())
        )
        assert response.status_code == 302
        with tenant_context(sched_a.gym):
            days = [local(o.starts_at)[0] for o in ClassOccurrence.objects.order_by("starts_at")]
        assert days == [monday, monday + timedelta(days=2), monday + timedelta(days=7)]


# --- Editing one class or all following --------------------------------------------------------


class TestEdit:
    def edit(self, crm: CrmGym, occurrence: ClassOccurrence, **fields: object):  # type: ignore[no-untyped-def]
        start = occurrence.starts_at.astimezone(LONDON)
        data: dict = {
            "scope": "this",
            "day": start.date().isoformat(),
            "local_start_time": "18:00",
            "duration_minutes": "45",
            "trainer": crm.tina.pk,
            "room": "",
            "capacity": "2",
        }
        data.update(fields)
        return as_user(crm, "owner").post(f"/schedule/classes/{occurrence.pk}/edit/", data)

    def test_the_edit_page_offers_this_or_all_following(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = build_series(sched_a, starts_on=next_monday(sched_a)).occurrences.first()
        body = as_user(sched_a, "owner").get(f"/schedule/classes/{occurrence.pk}/edit/")
        assert "This and all following classes" in body.content.decode()

    def test_only_this_class(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            series = build_series(sched_a, starts_on=next_monday(sched_a))
            first, second = series.occurrences.order_by("starts_at")[:2]
        response = self.edit(sched_a, second, local_start_time="19:30", trainer=sched_a.tom.pk)
        assert response.status_code == 302
        with tenant_context(sched_a.gym):
            second.refresh_from_db()
            first.refresh_from_db()
            assert local(second.starts_at)[1] == time(19, 30)
            assert (second.trainer, second.edited) == (sched_a.tom, True)
            assert local(first.starts_at)[1] == time(18)
            assert first.trainer == sched_a.tina

    def test_this_and_all_following_keeps_the_booked_clients(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            series = build_series(sched_a, starts_on=next_monday(sched_a))
            occurrences = list(series.occurrences.order_by("starts_at"))
            first, second, third = occurrences[:3]
            booking = ClassBooking.objects.create(occurrence=third, client=sched_a.ann)
            count = len(occurrences)
        response = self.edit(
            sched_a,
            second,
            scope="following",
            local_start_time="19:00",
            trainer=sched_a.tom.pk,
            capacity="8",
        )
        assert response.status_code == 302
        with tenant_context(sched_a.gym):
            first.refresh_from_db()
            assert (local(first.starts_at)[1], first.trainer) == (time(18), sched_a.tina)
            later = list(
                ClassOccurrence.objects.filter(starts_at__gt=first.starts_at).order_by("starts_at")
            )
            assert len(later) == count - 1
            assert {local(o.starts_at)[1] for o in later} == {time(19)}
            assert {o.trainer for o in later} == {sched_a.tom}
            assert {o.capacity for o in later} == {8}
            # Ann's class is the same class on the same day, now at 19:00.
            booking.refresh_from_db()
            assert booking.status == ClassBookingStatus.BOOKED
            assert booking.occurrence_id == third.pk
            assert local(booking.occurrence.starts_at) == (local(third.starts_at)[0], time(19))
            # The old timetable ends the day before; the new one carries on.
            series.refresh_from_db()
            assert series.ends_on == local(second.starts_at)[0] - timedelta(days=1)
            assert ClassSeries.objects.count() == 2

    def test_all_following_from_the_first_class_changes_the_timetable_itself(
        self, sched_a: CrmGym
    ) -> None:
        with tenant_context(sched_a.gym):
            series = build_series(sched_a, starts_on=next_monday(sched_a))
            first = series.occurrences.order_by("starts_at").first()
        response = self.edit(sched_a, first, scope="following", local_start_time="07:00")
        assert response.status_code == 302
        with tenant_context(sched_a.gym):
            assert ClassSeries.objects.count() == 1
            series.refresh_from_db()
            assert series.local_start_time == time(7)
            assert {local(o.starts_at)[1] for o in series.occurrences.all()} == {time(7)}

    def test_all_following_cannot_move_the_day(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            second = build_series(sched_a, starts_on=next_monday(sched_a)).occurrences.order_by(
                "starts_at"
            )[1]
        day = local(second.starts_at)[0] + timedelta(days=1)
        response = self.edit(sched_a, second, scope="following", day=day.isoformat())
        assert response.status_code == 200
        assert 'id="id_day-error"' in response.content.decode()


# --- Cancelling a class ----------------------------------------------------------------------


class TestCancel:
    def test_cancel_tells_the_booked_and_waiting_clients(
        self, sched_a: CrmGym, django_capture_on_commit_callbacks
    ) -> None:
        with tenant_context(sched_a.gym):
            occurrence = class_soon(sched_a, capacity=1)
            for client in (sched_a.ann, sched_a.bob):
                class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=client)
        owner = as_user(sched_a, "owner")
        page = owner.get(f"/schedule/classes/{occurrence.pk}/cancel/").content.decode()
        assert "2 clients are booked or waiting" in page
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = owner.post(
                f"/schedule/classes/{occurrence.pk}/cancel/", {"reason": "The coach is ill."}
            )
        assert response.status_code == 302
        assert sorted(m.to[0] for m in mail.outbox) == sorted(
            [sched_a.ann.email, sched_a.bob.email]
        )
        assert all("is cancelled" in m.body and "The coach is ill." in m.body for m in mail.outbox)
        assert all(m.subject.startswith("Cancelled: ") for m in mail.outbox)
        with tenant_context(sched_a.gym):
            occurrence.refresh_from_db()
            assert occurrence.is_cancelled
            assert occurrence.edited
            event = AuditEvent.objects.get(action="class_occurrence.cancelled")
            assert event.changes["notified"] == [None, 2]
        roster = owner.get(f"/schedule/classes/{occurrence.pk}/").content.decode()
        assert 'data-testid="class-cancelled"' in roster
        # Cancelling twice is an error on the page, not a second round of emails.
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            again = owner.post(f"/schedule/classes/{occurrence.pk}/cancel/", {"reason": ""})
        assert again.status_code == 200
        assert "already cancelled" in again.content.decode()
        assert mail.outbox == []

    def test_a_client_without_email_consent_gets_no_email(
        self, sched_a: CrmGym, django_capture_on_commit_callbacks
    ) -> None:
        with tenant_context(sched_a.gym):
            occurrence = class_soon(sched_a)
            sched_a.ann.notify_by_email = False
            sched_a.ann.save(update_fields=["notify_by_email"])
            ClassBooking.objects.create(occurrence=occurrence, client=sched_a.ann)
            mail.outbox.clear()
            with django_capture_on_commit_callbacks(execute=True):
                timetable.occurrence_cancel(actor=sched_a.manager, occurrence=occurrence)
        assert mail.outbox == []

    def test_a_cancelled_class_stays_cancelled_when_the_timetable_changes(
        self, sched_a: CrmGym
    ) -> None:
        with tenant_context(sched_a.gym):
            series = build_series(sched_a, starts_on=next_monday(sched_a))
            _, second, third = series.occurrences.order_by("starts_at")[:3]
            timetable.occurrence_cancel(actor=sched_a.owner, occurrence=third)
            timetable.occurrence_update_following(
                actor=sched_a.owner, occurrence=second, local_start_time=time(19)
            )
            third.refresh_from_db()
            assert third.is_cancelled
            assert local(third.starts_at)[1] == time(18)


# --- The roster and check-in ----------------------------------------------------------------


class TestRoster:
    def test_the_roster_lists_bookings_and_the_waitlist(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = class_soon(sched_a, capacity=1)
            for client in (sched_a.ann, sched_a.bob, sched_a.cara):
                class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=client)
        body = as_user(sched_a, "desk").get(f"/schedule/classes/{occurrence.pk}/").content.decode()
        roster = body.split('data-testid="roster"')[1].split('data-testid="waitlist"')[0]
        waitlist = body.split('data-testid="waitlist"')[1]
        assert "Ann Able" in roster
        assert "Bob Baker" not in roster
        assert waitlist.index("Bob Baker") < waitlist.index("Cara Cole")
        assert "#1 waiting" in waitlist
        assert "1/1" in body

    @pytest.mark.parametrize("role", ["desk", "tina", "owner"])
    def test_one_tap_check_in(self, sched_a: CrmGym, role: str) -> None:
        with tenant_context(sched_a.gym):
            occurrence = class_soon(sched_a)
            booking = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann
            )
        browser = as_user(sched_a, role)
        roster = browser.get(f"/schedule/classes/{occurrence.pk}/").content.decode()
        url = f"/schedule/classes/bookings/{booking.pk}/check-in/"
        assert f'hx-post="{url}"' in roster
        response = browser.post(url, **HTMX)
        assert response.status_code == 200
        row = response.content.decode()
        assert row.startswith(f'<li id="roster-booking-{booking.pk}"')
        assert 'data-testid="checked-in"' in row
        with tenant_context(sched_a.gym):
            booking.refresh_from_db()
            assert booking.status == ClassBookingStatus.ATTENDED

    def test_without_htmx_check_in_returns_to_the_roster(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = class_soon(sched_a)
            booking = ClassBooking.objects.create(occurrence=occurrence, client=sched_a.ann)
        response = as_user(sched_a, "desk").post(
            f"/schedule/classes/bookings/{booking.pk}/check-in/", follow=True
        )
        assert response.redirect_chain[-1][0] == f"/schedule/classes/{occurrence.pk}/"
        assert "Ann Able is checked in." in response.content.decode()

    def test_a_trainer_cannot_check_in_to_another_trainers_class(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = class_soon(sched_a)
            booking = ClassBooking.objects.create(occurrence=occurrence, client=sched_a.ann)
        response = as_user(sched_a, "tom").post(
            f"/schedule/classes/bookings/{booking.pk}/check-in/", **HTMX
        )
        assert response.status_code == 404
        with tenant_context(sched_a.gym):
            booking.refresh_from_db()
            assert booking.status == ClassBookingStatus.BOOKED

    def test_before_check_in_opens_the_roster_says_when_it_does(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = class_soon(sched_a)
            occurrence.starts_at += timedelta(hours=3)
            occurrence.ends_at += timedelta(hours=3)
            occurrence.save()
            ClassBooking.objects.create(occurrence=occurrence, client=sched_a.ann)
        body = as_user(sched_a, "desk").get(f"/schedule/classes/{occurrence.pk}/").content.decode()
        opens = (occurrence.starts_at - timedelta(hours=1)).astimezone(LONDON)
        assert f"Check-in opens at {opens:%H:%M}" in body
        assert "/check-in/" not in body

    def test_trainers_and_the_desk_get_no_edit_or_cancel(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = class_soon(sched_a)
        for role in ("desk", "tina"):
            body = as_user(sched_a, role).get(f"/schedule/classes/{occurrence.pk}/")
            assert "/edit/" not in body.content.decode()
            assert "/cancel/" not in body.content.decode()
        assert (
            "/cancel/"
            in as_user(sched_a, "manager")
            .get(f"/schedule/classes/{occurrence.pk}/")
            .content.decode()
        )

    def test_too_early_is_an_error_in_the_row(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = class_soon(sched_a)
            occurrence.starts_at += timedelta(days=1)
            occurrence.ends_at += timedelta(days=1)
            occurrence.save()
            booking = ClassBooking.objects.create(occurrence=occurrence, client=sched_a.ann)
        response = as_user(sched_a, "desk").post(
            f"/schedule/classes/bookings/{booking.pk}/check-in/", **HTMX
        )
        assert response.status_code == 200
        assert "Check-in opens an hour before the class." in response.content.decode()


# --- Gym isolation and query counts --------------------------------------------------------------


class TestIsolation:
    def test_gym_a_sees_and_changes_nothing_of_gym_b(self, sched_a: CrmGym, crm_b: CrmGym) -> None:
        with tenant_context(crm_b.gym):
            b_type = ClassType.objects.create(name="Bravo Bootcamp")
            starts_at = timezone.now() + timedelta(minutes=30)
            # Enough rows that gym B's ids are not also gym A's.
            for hours in range(5):
                ClassOccurrence.objects.create(
                    class_type=b_type,
                    starts_at=starts_at + timedelta(hours=hours),
                    ends_at=starts_at + timedelta(hours=hours, minutes=45),
                    capacity=5,
                )
            b_class = ClassOccurrence.objects.order_by("pk").last()
            b_booking = ClassBooking.objects.create(occurrence=b_class, client=crm_b.ann)
        owner_a = as_user(sched_a, "owner")
        assert "Bravo Bootcamp" not in owner_a.get(LIST).content.decode()
        assert "Bravo Bootcamp" not in owner_a.get(TYPES).content.decode()
        with tenant_context(sched_a.gym):
            in_a = ClassOccurrence.objects.filter(pk=b_class.pk).exists()
            booking_in_a = ClassBooking.objects.filter(pk=b_booking.pk).exists()
            type_in_a = ClassType.objects.filter(pk=b_type.pk).exists()
        if not in_a:
            for url in (
                f"/schedule/classes/{b_class.pk}/",
                f"/schedule/classes/{b_class.pk}/edit/",
                f"/schedule/classes/{b_class.pk}/cancel/",
            ):
                assert owner_a.get(url).status_code == 404
            assert owner_a.post(f"/schedule/classes/{b_class.pk}/cancel/").status_code == 404
        if not booking_in_a:
            url = f"/schedule/classes/bookings/{b_booking.pk}/check-in/"
            assert owner_a.post(url).status_code == 404
        if not type_in_a:
            assert owner_a.get(f"/schedule/classes/types/{b_type.pk}/").status_code == 404
        # Gym A's session means nothing on gym B's host.
        on_b = GymClient(crm_b.gym.subdomain)
        on_b.cookies["sessionid"] = owner_a.cookies["sessionid"].value
        assert on_b.get(LIST).status_code == 302
        with tenant_context(crm_b.gym):
            b_class.refresh_from_db()
            b_booking.refresh_from_db()
            assert not b_class.is_cancelled
            assert b_booking.status == ClassBookingStatus.BOOKED


class TestQueryCounts:
    def count(self, browser: GymClient, url: str, params: dict | None = None) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert browser.get(url, params or {}).status_code == 200
        return len(queries)

    def test_the_week_does_not_grow_with_its_classes(self, sched_a: CrmGym) -> None:
        monday = next_monday(sched_a)
        owner = as_user(sched_a, "owner")
        with tenant_context(sched_a.gym):
            series = build_series(sched_a, starts_on=monday, capacity=20)
            first = series.occurrences.order_by("starts_at").first()
            ClassBooking.objects.create(occurrence=first, client=sched_a.ann)
        params = {"date": monday.isoformat()}
        self.count(owner, LIST, params)
        few = self.count(owner, LIST, params)
        with tenant_context(sched_a.gym):
            for day in range(7):
                for hour in (7, 9, 12, 17, 19):
                    starts_at = datetime.combine(
                        monday + timedelta(days=day), time(hour), tzinfo=LONDON
                    )
                    other = ClassOccurrence.objects.create(
                        class_type=ClassType.objects.get_or_create(name=f"Type {hour}")[0],
                        trainer=sched_a.tom,
                        starts_at=starts_at,
                        ends_at=starts_at + timedelta(minutes=45),
                        capacity=10,
                    )
                    ClassBooking.objects.create(occurrence=other, client=sched_a.bob)
            for n in range(3):
                build_series(sched_a, starts_on=monday, name=f"Spin {n}")
        many = self.count(owner, LIST, params)
        assert many == few

    def test_the_roster_does_not_grow_with_its_bookings(self, sched_a: CrmGym) -> None:
        from apps.crm import services as crm_services

        desk = as_user(sched_a, "desk")
        with tenant_context(sched_a.gym):
            occurrence = class_soon(sched_a, capacity=3)
            ClassBooking.objects.create(occurrence=occurrence, client=sched_a.ann)
        url = f"/schedule/classes/{occurrence.pk}/"
        self.count(desk, url)
        few = self.count(desk, url)
        with tenant_context(sched_a.gym):
            for n in range(8):
                client = crm_services.client_create(
                    actor=sched_a.owner, first_name=f"Extra{n}", last_name="Member"
                )
                class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=client)
        assert self.count(desk, url) == few

    def test_class_types_do_not_grow_with_their_number(self, sched_a: CrmGym) -> None:
        owner = as_user(sched_a, "owner")
        with tenant_context(sched_a.gym):
            spin()
        self.count(owner, TYPES)
        few = self.count(owner, TYPES)
        with tenant_context(sched_a.gym):
            for n in range(10):
                ClassType.objects.create(name=f"Type {n}")
        assert self.count(owner, TYPES) == few
