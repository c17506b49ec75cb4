"""Group classes: series generation in the gym's time zone (DST), edits of one occurrence or of
the series from a date, capacity, waitlist and promotion, booking and late-cancel windows,
roles."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.scheduling.classes import services as class_services
from apps.scheduling.models import (
    ClassBooking,
    ClassBookingStatus,
    ClassOccurrence,
    ClassSeries,
    ClassType,
)
from tests.crm.conftest import CrmGym
from tests.scheduling.test_policies import add_strikes

LONDON = ZoneInfo("Europe/London")


def make_series(crm: CrmGym, **fields: object) -> ClassSeries:
    class_type = ClassType.objects.create(name="Spin", default_capacity=2, duration_minutes=45)
    values: dict = {
        "class_type": class_type,
        "trainer": crm.tina,
        "capacity": 2,
        "local_start_time": time(18),
        "duration_minutes": 45,
        "rrule": "FREQ=WEEKLY;BYDAY=TU",
        "starts_on": date(2026, 3, 3),
    }
    values.update(fields)
    return ClassSeries.objects.create(**values)


def make_class(crm: CrmGym, *, capacity: int = 2, in_hours: float = 48) -> ClassOccurrence:
    class_type = ClassType.objects.create(
        name=f"Yoga {capacity} {in_hours}",
        booking_opens_days=7,
        booking_closes_minutes=60,
        late_cancel_minutes=12 * 60,
    )
    starts_at = timezone.now() + timedelta(hours=in_hours)
    return ClassOccurrence.objects.create(
        class_type=class_type,
        trainer=crm.tina,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        capacity=capacity,
    )


def local_times(series: ClassSeries) -> list[tuple[date, time]]:
    return [
        (o.starts_at.astimezone(LONDON).date(), o.starts_at.astimezone(LONDON).time())
        for o in series.occurrences.order_by("starts_at")
    ]


class TestGeneration:
    def test_weekly_18_00_stays_local_across_both_dst_changes(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            series = make_series(sched_a)
            class_services.series_generate_occurrences(series=series, until=date(2026, 11, 3))
            times = local_times(series)
            assert {t for _, t in times} == {time(18)}
            utc_hours = {
                day: o.starts_at.astimezone(ZoneInfo("UTC")).hour
                for (day, _), o in zip(times, series.occurrences.order_by("starts_at"), strict=True)
            }
            # GMT before 29 March, BST until 25 October, GMT again after.
            assert utc_hours[date(2026, 3, 24)] == 18
            assert utc_hours[date(2026, 3, 31)] == 17
            assert utc_hours[date(2026, 10, 20)] == 17
            assert utc_hours[date(2026, 10, 27)] == 18
            assert all(day.weekday() == 1 for day, _ in times)

    def test_generation_is_idempotent(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            series = make_series(sched_a, rrule="FREQ=WEEKLY;BYDAY=MO,WE")
            first = class_services.series_generate_occurrences(
                series=series, until=date(2026, 3, 31)
            )
            again = class_services.series_generate_occurrences(
                series=series, until=date(2026, 3, 31)
            )
            assert len(first) == 8
            assert again == []
            assert series.occurrences.count() == 8
            more = class_services.series_generate_occurrences(series=series, until=date(2026, 4, 8))
            assert len(more) == 3

    def test_ends_on_bounds_the_series(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            series = make_series(sched_a, ends_on=date(2026, 3, 17))
            class_services.series_generate_occurrences(series=series, until=date(2026, 6, 1))
            assert series.occurrences.count() == 3


class TestEdits:
    def test_edit_one_occurrence_marks_it_edited(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            series = make_series(sched_a)
            class_services.series_generate_occurrences(series=series, until=date(2026, 3, 31))
            occurrence = series.occurrences.order_by("starts_at")[1]
            class_services.occurrence_update(
                actor=sched_a.manager, occurrence=occurrence, trainer=sched_a.tom, capacity=5
            )
            occurrence.refresh_from_db()
            assert occurrence.edited
            assert occurrence.trainer == sched_a.tom
            assert AuditEvent.objects.filter(action="class_occurrence.updated").exists()
            others = series.occurrences.exclude(pk=occurrence.pk)
            assert set(others.values_list("trainer", flat=True)) == {sched_a.tina.pk}

    def test_edit_needs_management(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            series = make_series(sched_a)
            class_services.series_generate_occurrences(series=series, until=date(2026, 3, 10))
            with pytest.raises(PermissionDenied):
                class_services.occurrence_update(
                    actor=sched_a.desk, occurrence=series.occurrences.first(), capacity=9
                )

    def test_series_from_a_date(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            series = make_series(sched_a)
            class_services.series_generate_occurrences(series=series, until=date(2026, 3, 31))
            edited = series.occurrences.get(starts_at__date=date(2026, 3, 24))
            class_services.occurrence_update(actor=sched_a.manager, occurrence=edited, capacity=9)
            new = class_services.series_update_from(
                actor=sched_a.manager,
                series=series,
                from_date=date(2026, 3, 15),
                local_start_time=time(19),
            )
            series.refresh_from_db()
            assert series.ends_on == date(2026, 3, 14)
            assert local_times(series) == [
                (date(2026, 3, 3), time(18)),
                (date(2026, 3, 10), time(18)),
            ]
            # The edited occurrence keeps its time; the others follow the change.
            assert local_times(new) == [
                (date(2026, 3, 17), time(19)),
                (date(2026, 3, 24), time(18)),
                (date(2026, 3, 31), time(19)),
            ]


class TestBooking:
    def test_each_booking_is_audited_with_its_outcome(self, sched_a: CrmGym) -> None:
        """The booking and its audit event are written in one statement (class_book's SQL):
        the event names the booking, who booked and what came of it."""
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a, capacity=1)
            booked = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann
            )
            waiting = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.cara
            )
            events = AuditEvent.objects.filter(action="class_booking.created").order_by("pk")
            assert [(e.object_type, e.object_id) for e in events] == [
                ("scheduling.classbooking", str(booked.pk)),
                ("scheduling.classbooking", str(waiting.pk)),
            ]
            assert events[0].changes == {
                "occurrence": [None, occurrence.pk],
                "client": [None, sched_a.ann.pk],
                "status": [None, "booked"],
                "waitlist_position": [None, None],
            }
            assert events[1].changes["status"] == [None, "waitlisted"]
            assert events[1].changes["waitlist_position"] == [None, 1]
            assert {(e.actor_id, e.actor_role) for e in events} == {
                (sched_a.desk.pk, sched_a.desk.role)
            }
            # What class_book returned is what was stored.
            stored = ClassBooking.objects.get(pk=waiting.pk)
            assert (stored.status, stored.waitlist_position, stored.created_at) == (
                waiting.status,
                waiting.waitlist_position,
                waiting.created_at,
            )

    def test_full_class_waitlists_then_cancel_promotes_and_emails(
        self, sched_a: CrmGym, django_capture_on_commit_callbacks
    ) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a, capacity=1)
            desk = sched_a.desk
            first = class_services.class_book(actor=desk, occurrence=occurrence, client=sched_a.ann)
            bob = class_services.class_book(actor=desk, occurrence=occurrence, client=sched_a.bob)
            cara = class_services.class_book(actor=desk, occurrence=occurrence, client=sched_a.cara)
            assert first.status == ClassBookingStatus.BOOKED
            assert (bob.status, bob.waitlist_position) == (ClassBookingStatus.WAITLISTED, 1)
            assert (cara.status, cara.waitlist_position) == (ClassBookingStatus.WAITLISTED, 2)
            mail.outbox.clear()
            with django_capture_on_commit_callbacks(execute=True):
                class_services.class_cancel(actor=desk, booking=first)
            first.refresh_from_db()
            bob.refresh_from_db()
            cara.refresh_from_db()
            assert first.status == ClassBookingStatus.CANCELLED
            assert (bob.status, bob.waitlist_position) == (ClassBookingStatus.BOOKED, None)
            assert cara.status == ClassBookingStatus.WAITLISTED
            assert [m.to for m in mail.outbox] == [[sched_a.bob.email]]
            assert AuditEvent.objects.filter(action="class_booking.promoted").count() == 1

    def test_double_booking_is_refused(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a)
            class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann)
            with pytest.raises(ValidationError) as error:
                class_services.class_book(
                    actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann
                )
            assert "client" in error.value.message_dict

    def test_late_cancel_window(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a, in_hours=3)
            booking = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann
            )
            booking = class_services.class_cancel(actor=sched_a.desk, booking=booking)
            assert booking.status == ClassBookingStatus.LATE_CANCELLED
            again = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann
            )
            waived = class_services.class_cancel(actor=sched_a.desk, booking=again, waive_late=True)
            assert waived.status == ClassBookingStatus.CANCELLED

    def test_a_refusal_names_the_first_rule_that_refuses(self, sched_a: CrmGym) -> None:
        """The rules in order: the class (cancelled, window), a place already held, then the
        client's strikes. A refused booking writes nothing."""
        with tenant_context(sched_a.gym):
            held = make_class(sched_a)
            class_services.class_book(actor=sched_a.desk, occurrence=held, client=sched_a.ann)
            add_strikes(sched_a.ann, 3, 2, 1)
            with pytest.raises(ValidationError) as error:
                class_services.class_book(actor=sched_a.desk, occurrence=held, client=sched_a.ann)
            assert error.value.message_dict == {
                "client": ["This client is already booked for this class."]
            }
            other = make_class(sched_a, in_hours=50)
            with pytest.raises(ValidationError) as error:
                class_services.class_book(actor=sched_a.desk, occurrence=other, client=sched_a.ann)
            assert "cannot book until" in error.value.message_dict["client"][0]
            ClassOccurrence.objects.filter(pk=other.pk).update(is_cancelled=True)
            with pytest.raises(ValidationError) as error:
                class_services.class_book(actor=sched_a.desk, occurrence=other, client=sched_a.ann)
            assert error.value.message_dict == {"occurrence": ["This class is cancelled."]}
            assert not other.bookings.exists()
            assert AuditEvent.objects.filter(action="class_booking.created").count() == 1

    def test_a_strike_below_the_limit_does_not_stop_a_booking(self, sched_a: CrmGym) -> None:
        """A client with strikes is booked once the gym's policy says they are not blocked."""
        with tenant_context(sched_a.gym):
            add_strikes(sched_a.bob, 2)
            occurrence = make_class(sched_a, capacity=1)
            booking = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.bob
            )
            assert booking.status == ClassBookingStatus.BOOKED
            events = AuditEvent.objects.filter(action="class_booking.created")
            assert list(events.values_list("object_id", flat=True)) == [str(booking.pk)]

    @pytest.mark.parametrize(("in_hours", "code"), [(0.5, "closed"), (24 * 10, "not_open")])
    def test_closed_booking_window(self, sched_a: CrmGym, in_hours: float, code: str) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a, in_hours=in_hours)
            with pytest.raises(ValidationError) as error:
                class_services.class_book(
                    actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann
                )
            assert "occurrence" in error.value.message_dict
            assert error.value.error_dict["occurrence"][0].code == code

    def test_no_show_only_after_start(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a)
            booking = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann
            )
            with pytest.raises(ValidationError):
                class_services.booking_mark_no_show(actor=sched_a.desk, booking=booking)
            ClassOccurrence.objects.filter(pk=occurrence.pk).update(
                starts_at=timezone.now() - timedelta(minutes=5)
            )
            booking.refresh_from_db()
            booking = class_services.booking_mark_no_show(actor=sched_a.tina.user, booking=booking)
            assert booking.status == ClassBookingStatus.NO_SHOW


class TestRoles:
    @pytest.mark.parametrize(
        ("role", "client", "allowed"),
        [
            ("owner", "bob", True),
            ("manager", "bob", True),
            ("desk", "bob", True),
            ("cara", "cara", True),
            ("cara", "ann", False),
            ("tina", "ann", True),
            ("tina", "cara", False),
            ("tom", "cara", True),
        ],
    )
    def test_who_may_book_whom(
        self, sched_a: CrmGym, role: str, client: str, allowed: bool
    ) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a)
            target = getattr(sched_a, client)
            actor = sched_a.user(role)
            if allowed:
                booking = class_services.class_book(
                    actor=actor, occurrence=occurrence, client=target
                )
                assert booking.status == ClassBookingStatus.BOOKED
            else:
                with pytest.raises(PermissionDenied):
                    class_services.class_book(actor=actor, occurrence=occurrence, client=target)


def test_times_are_utc(sched_a: CrmGym) -> None:
    with tenant_context(sched_a.gym):
        series = make_series(sched_a)
        (occurrence,) = class_services.series_generate_occurrences(
            series=series, until=date(2026, 3, 3)
        )
        assert occurrence.starts_at == datetime(2026, 3, 3, 18, tzinfo=LONDON)


# --- Capacity under load ----------------------------------------------------------------------
# Real parallel connections need committed rows. pytest-django's transactional flush cannot empty
# the append-only audit table, so the test keeps the ordinary `django_db` mark (its rollback only
# covers the main thread's connection, which this test does not write with) and does ALL its work
# in other threads, whose own connections autocommit. It works in the committed gym "charlie"
# (tests/conftest.py BROWSER) and deletes its class rows afterwards; the audit events stay there.

LOAD_CLIENTS = 200
LOAD_CAPACITY = 20


def _in_own_connection(function, *args):  # type: ignore[no-untyped-def]
    """Run `function` in a thread of its own, with its own (autocommitting) connection."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def run():  # type: ignore[no-untyped-def]
        try:
            return function(*args)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.mark.django_db
def test_200_clients_racing_for_20_spots() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from apps.accounts.models import Role, User
    from apps.crm.models import Client
    from apps.scheduling.models import ClassBooking
    from apps.tenants.models import Gym
    from tests.conftest import BROWSER, make_user

    def set_up():  # type: ignore[no-untyped-def]
        gym = Gym.objects.get(subdomain=BROWSER.subdomain)
        with tenant_context(gym):
            desk = User.objects.filter(email="load-desk@charlie.example").first() or make_user(
                Role.FRONT_DESK, "load-desk@charlie.example"
            )
            class_type = ClassType.objects.create(name=f"Load test {timezone.now().isoformat()}")
            starts_at = timezone.now() + timedelta(days=2)
            occurrence = ClassOccurrence.objects.create(
                class_type=class_type,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=1),
                capacity=LOAD_CAPACITY,
            )
            clients = Client.objects.bulk_create(
                Client(first_name="Load", last_name=str(i)) for i in range(LOAD_CLIENTS)
            )
        return gym, desk, class_type, occurrence, clients

    gym, desk, class_type, occurrence, clients = _in_own_connection(set_up)

    def book(client: Client) -> int:
        try:
            with tenant_context(gym):
                return class_services.class_book(
                    actor=desk, occurrence=occurrence, client=client
                ).pk
        finally:
            connection.close()

    def read():  # type: ignore[no-untyped-def]
        with tenant_context(gym):
            return list(
                ClassBooking.objects.filter(occurrence=occurrence).order_by("created_at", "pk")
            )

    def clean_up() -> None:
        with tenant_context(gym):
            ClassBooking.objects.filter(occurrence=occurrence).delete()
            occurrence.delete()
            class_type.delete()
            Client.objects.filter(pk__in=[c.pk for c in clients]).delete()

    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            booked_pks = list(pool.map(book, clients))
        bookings = _in_own_connection(read)
        assert sorted(b.pk for b in bookings) == sorted(booked_pks)
        statuses = [b.status for b in bookings]
        assert statuses.count(ClassBookingStatus.BOOKED) == LOAD_CAPACITY
        assert statuses.count(ClassBookingStatus.WAITLISTED) == LOAD_CLIENTS - LOAD_CAPACITY
        # Arrival order = the order the bookings got the occurrence's lock: the first 20 to get
        # it hold the spots, and the waitlist numbers follow creation order 1, 2, 3...
        assert statuses[:LOAD_CAPACITY] == [ClassBookingStatus.BOOKED] * LOAD_CAPACITY
        positions = [b.waitlist_position for b in bookings[LOAD_CAPACITY:]]
        assert positions == list(range(1, LOAD_CLIENTS - LOAD_CAPACITY + 1))
    finally:
        _in_own_connection(clean_up)


# --- API ----------------------------------------------------------------------------------------

OCCURRENCES = "/api/v1/occurrences/"


def test_class_types_and_timetable_with_spots_left(
    sched_a: CrmGym, api_as, django_assert_max_num_queries
) -> None:
    with tenant_context(sched_a.gym):
        occurrences = [make_class(sched_a, capacity=2, in_hours=24 + i) for i in range(6)]
        class_services.class_book(actor=sched_a.desk, occurrence=occurrences[0], client=sched_a.ann)
    cara = api_as("cara")
    assert cara.get("/api/v1/classes/").status_code == 200
    with django_assert_max_num_queries(8):
        response = cara.get(OCCURRENCES)
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 6
    assert results[0]["spots_left"] == 1
    assert results[1]["spots_left"] == 2
    # `from`/`to` are days in the gym's time zone.
    far = (timezone.localdate() + timedelta(days=30)).isoformat()
    assert cara.get(OCCURRENCES, {"from": far}).json()["results"] == []
    bad = cara.get(OCCURRENCES, {"from": "soon"})
    assert bad.status_code == 400
    assert "from" in bad.json()["errors"]


def test_book_full_waitlists_and_idempotent_retry(sched_a: CrmGym, api_as) -> None:
    with tenant_context(sched_a.gym):
        occurrence = make_class(sched_a, capacity=1)
        class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann)
    cara = api_as("cara")
    url = f"{OCCURRENCES}{occurrence.pk}/book/"
    first = cara.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="class-1")
    again = cara.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="class-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["status"] == "waitlisted"
    assert first.json()["waitlist_position"] == 1
    with tenant_context(sched_a.gym):
        assert occurrence.bookings.filter(client=sched_a.cara).count() == 1
    # Without a key, a second try is refused: cara already holds a place.
    assert cara.post(url, {}, format="json").status_code == 400
    cancelled = cara.post(f"{OCCURRENCES}{occurrence.pk}/cancel/", {}, format="json")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"


def test_closed_window_is_400_naming_the_field(sched_a: CrmGym, api_as) -> None:
    with tenant_context(sched_a.gym):
        occurrence = make_class(sched_a, in_hours=0.5)
    response = api_as("desk").post(
        f"{OCCURRENCES}{occurrence.pk}/book/", {"client": sched_a.bob.pk}, format="json"
    )
    assert response.status_code == 400
    assert "occurrence" in response.json()["errors"]


def test_client_cannot_book_someone_else(sched_a: CrmGym, api_as) -> None:
    with tenant_context(sched_a.gym):
        occurrence = make_class(sched_a)
    response = api_as("cara").post(
        f"{OCCURRENCES}{occurrence.pk}/book/", {"client": sched_a.ann.pk}, format="json"
    )
    assert response.status_code in (400, 403)
    with tenant_context(sched_a.gym):
        assert not occurrence.bookings.exists()
