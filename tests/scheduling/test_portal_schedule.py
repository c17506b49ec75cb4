"""The client's schedule in the portal: what they see (only their own), booking, the waitlist,
cancelling with the late-cancel warning, the errors the services give, guessed ids, gym
isolation and flat query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.scheduling.appointments.services import appointment_book
from apps.scheduling.classes import services as class_services
from apps.scheduling.models import ClassBooking, ClassBookingStatus, ClassOccurrence, ClassType
from tests.conftest import GymClient
from tests.crm.conftest import CrmGym
from tests.scheduling.conftest import give_tom_hours

URL = "/portal/schedule/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def as_user(crm: CrmGym, role: str = "cara") -> GymClient:
    browser = GymClient(crm.gym.subdomain)
    browser.force_login(crm.user(role))
    return browser


def make_class(
    crm: CrmGym, *, in_hours: float = 48, capacity: int = 5, name: str = "Spin"
) -> ClassOccurrence:
    """A class of Tom's starting `in_hours` from now: booking opens 7 days before and closes an
    hour before; cancelling within 12 hours of the start is late."""
    class_type, _ = ClassType.objects.get_or_create(
        name=name,
        defaults={
            "booking_opens_days": 7,
            "booking_closes_minutes": 60,
            "late_cancel_minutes": 12 * 60,
        },
    )
    starts_at = timezone.now() + timedelta(hours=in_hours)
    return ClassOccurrence.objects.create(
        class_type=class_type,
        trainer=crm.tom,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        capacity=capacity,
    )


def book_url(occurrence: ClassOccurrence) -> str:
    return f"/portal/schedule/classes/{occurrence.pk}/book/"


def cancel_url(booking: ClassBooking) -> str:
    return f"/portal/schedule/bookings/{booking.pk}/cancel/"


class TestPage:
    def test_staff_are_sent_to_their_dashboard(self, sched_a: CrmGym) -> None:
        response = as_user(sched_a, "desk").get(URL)
        assert response.status_code == 403

    def test_anonymous_goes_to_the_login_page(self, sched_a: CrmGym) -> None:
        response = GymClient(sched_a.gym.subdomain).get(URL)
        assert response.status_code == 302

    def test_shows_own_bookings_appointments_and_open_classes_only(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            give_tom_hours(sched_a)
            mine = make_class(sched_a, name="Spin")
            other = make_class(sched_a, name="Yoga", in_hours=50)
            class_services.class_book(actor=sched_a.owner, occurrence=mine, client=sched_a.cara)
            class_services.class_book(actor=sched_a.owner, occurrence=other, client=sched_a.ann)
            start = timezone.now() + timedelta(days=3)
            start = start.replace(hour=10, minute=0, second=0, microsecond=0)
            appointment_book(
                actor=sched_a.owner,
                trainer=sched_a.tom,
                client=sched_a.cara,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                override_availability=True,
            )
            far = make_class(sched_a, name="Far away", in_hours=24 * 20)
        body = as_user(sched_a).get(URL).content.decode()
        assert f'data-testid="my-booking" data-occurrence="{mine.pk}"' in body
        assert f'data-testid="my-booking" data-occurrence="{other.pk}"' not in body
        assert "Ann Able" not in body  # nobody else's names
        assert 'data-testid="my-appointments"' in body
        assert "Tom Coach" in body
        assert f'data-occurrence="{other.pk}"' in body  # open to book
        assert f'data-occurrence="{far.pk}"' not in body  # beyond 14 days
        assert "Yoga" in body
        assert "4 spots left" in body  # Spin: 5 places, Cara in one

    def test_a_class_the_gym_cancelled_says_so(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a)
            class_services.class_book(
                actor=sched_a.owner, occurrence=occurrence, client=sched_a.cara
            )
            ClassOccurrence.objects.filter(pk=occurrence.pk).update(is_cancelled=True)
        body = as_user(sched_a).get(URL).content.decode()
        assert "The gym cancelled this class" in body
        assert 'data-testid="open-class"' not in body

    def test_times_are_in_the_gyms_zone(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a)
        from zoneinfo import ZoneInfo

        local = occurrence.starts_at.astimezone(ZoneInfo("Europe/London"))
        body = as_user(sched_a).get(URL).content.decode()
        assert f"{local:%H:%M}" in body

    def test_query_count_does_not_grow_with_bookings_and_classes(self, sched_a: CrmGym) -> None:
        cara = as_user(sched_a)

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert cara.get(URL).status_code == 200
            return len(queries)

        with tenant_context(sched_a.gym):
            first = make_class(sched_a, name="Class 0")
            class_services.class_book(actor=sched_a.owner, occurrence=first, client=sched_a.cara)
        few = count()
        with tenant_context(sched_a.gym):
            give_tom_hours(sched_a)
            for index in range(1, 7):
                occurrence = make_class(sched_a, name=f"Class {index}", in_hours=30 + index * 5)
                class_services.class_book(
                    actor=sched_a.owner, occurrence=occurrence, client=sched_a.cara
                )
                class_services.class_book(
                    actor=sched_a.owner, occurrence=occurrence, client=sched_a.ann
                )
                start = timezone.now() + timedelta(days=index, hours=1)
                appointment_book(
                    actor=sched_a.owner,
                    trainer=sched_a.tom,
                    client=sched_a.cara,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=30),
                    override_availability=True,
                )
        assert count() == few


class TestBook:
    def test_book_with_htmx(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a)
        response = as_user(sched_a).post(book_url(occurrence), **HTMX)
        assert response.status_code == 200
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="portal-schedule"')
        assert "You are booked for Spin" in body
        assert f'data-testid="my-booking" data-occurrence="{occurrence.pk}"' in body
        with tenant_context(sched_a.gym):
            booking = ClassBooking.objects.get(occurrence=occurrence, client=sched_a.cara)
            assert booking.status == ClassBookingStatus.BOOKED

    def test_book_without_javascript_redirects_with_a_message(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a)
        cara = as_user(sched_a)
        response = cara.post(book_url(occurrence))
        assert response.status_code == 302
        assert response["Location"] == URL
        assert "You are booked for Spin" in cara.get(URL).content.decode()

    def test_a_full_class_offers_the_waitlist_and_shows_the_position(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a, capacity=1)
            class_services.class_book(
                actor=sched_a.owner, occurrence=occurrence, client=sched_a.ann
            )
        cara = as_user(sched_a)
        assert "Join waitlist" in cara.get(URL).content.decode()
        body = cara.post(book_url(occurrence), **HTMX).content.decode()
        assert "you are number 1 on the waitlist" in body
        assert "Waitlist: number 1" in body
        with tenant_context(sched_a.gym):
            booking = ClassBooking.objects.get(occurrence=occurrence, client=sched_a.cara)
            assert booking.status == ClassBookingStatus.WAITLISTED

    def test_closed_window_is_explained(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a, in_hours=0.5)  # booking closed an hour before
        cara = as_user(sched_a)
        assert "Booking closed" in cara.get(URL).content.decode()
        body = cara.post(book_url(occurrence), **HTMX).content.decode()
        assert 'data-testid="schedule-error"' in body
        assert "Booking for this class has closed." in body
        response = cara.post(book_url(occurrence))
        assert response.status_code == 400
        with tenant_context(sched_a.gym):
            assert not ClassBooking.objects.filter(occurrence=occurrence).exists()

    def test_not_open_yet_is_explained(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a, in_hours=24 * 10)  # opens 7 days before
        cara = as_user(sched_a)
        assert "Booking opens" in cara.get(URL).content.decode()
        body = cara.post(book_url(occurrence), **HTMX).content.decode()
        assert "Booking for this class is not open yet." in body

    def test_booking_twice_is_refused(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a)
        cara = as_user(sched_a)
        cara.post(book_url(occurrence), **HTMX)
        body = cara.post(book_url(occurrence), **HTMX).content.decode()
        assert "This client is already booked for this class." in body
        with tenant_context(sched_a.gym):
            assert ClassBooking.objects.filter(occurrence=occurrence).count() == 1

    def test_a_client_blocked_by_the_policy_is_told_until_when(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            # The default policy blocks after three strikes (late cancels) within 30 days.
            for index in range(3):
                occurrence = make_class(sched_a, name=f"Late {index}", in_hours=2 + index)
                booking = class_services.class_book(
                    actor=sched_a.owner, occurrence=occurrence, client=sched_a.cara
                )
                class_services.class_cancel(actor=sched_a.cara_user, booking=booking)
            occurrence = make_class(sched_a)
        body = as_user(sched_a).post(book_url(occurrence), **HTMX).content.decode()
        assert "You cannot book until" in body
        with tenant_context(sched_a.gym):
            assert not ClassBooking.objects.filter(occurrence=occurrence).exists()

    def test_an_unknown_class_is_a_404(self, sched_a: CrmGym) -> None:
        assert as_user(sched_a).post("/portal/schedule/classes/999999/book/").status_code == 404

    def test_get_is_not_allowed(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a)
        assert as_user(sched_a).get(book_url(occurrence)).status_code == 405


class TestCancel:
    def test_cancel_outside_the_late_window(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a, in_hours=48)
            booking = class_services.class_book(
                actor=sched_a.owner, occurrence=occurrence, client=sched_a.cara
            )
        body = as_user(sched_a).post(cancel_url(booking), **HTMX).content.decode()
        assert "Your place in Spin is cancelled." in body
        assert 'data-testid="no-bookings"' in body
        with tenant_context(sched_a.gym):
            booking.refresh_from_db()
            assert booking.status == ClassBookingStatus.CANCELLED

    def test_late_cancel_warns_first_then_cancels_late(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a, in_hours=3)  # within the 12-hour window
            booking = class_services.class_book(
                actor=sched_a.owner, occurrence=occurrence, client=sched_a.cara
            )
        cara = as_user(sched_a)
        assert "Inside the late-cancel window" in cara.get(URL).content.decode()
        body = cara.post(cancel_url(booking), **HTMX).content.decode()
        assert 'data-testid="late-cancel-warning"' in body
        assert "Cancel anyway" in body
        with tenant_context(sched_a.gym):
            booking.refresh_from_db()
            assert booking.status == ClassBookingStatus.BOOKED
        body = cara.post(cancel_url(booking), {"confirm": "late"}, **HTMX).content.decode()
        assert "It counts as a late cancellation." in body
        with tenant_context(sched_a.gym):
            booking.refresh_from_db()
            assert booking.status == ClassBookingStatus.LATE_CANCELLED

    def test_leaving_the_waitlist(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a, capacity=1, in_hours=3)
            class_services.class_book(
                actor=sched_a.owner, occurrence=occurrence, client=sched_a.ann
            )
            booking = class_services.class_book(
                actor=sched_a.owner, occurrence=occurrence, client=sched_a.cara
            )
        # No late warning: leaving a waitlist is never late.
        body = as_user(sched_a).post(cancel_url(booking), **HTMX).content.decode()
        assert "You left the waitlist of Spin." in body
        with tenant_context(sched_a.gym):
            booking.refresh_from_db()
            assert booking.status == ClassBookingStatus.CANCELLED

    def test_another_clients_booking_cannot_be_cancelled_by_guessing(self, sched_a: CrmGym) -> None:
        with tenant_context(sched_a.gym):
            occurrence = make_class(sched_a)
            anns = class_services.class_book(
                actor=sched_a.owner, occurrence=occurrence, client=sched_a.ann
            )
        cara = as_user(sched_a)
        assert cara.post(cancel_url(anns), {"confirm": "late"}).status_code == 404
        assert cara.post(cancel_url(anns), **HTMX).status_code == 404
        with tenant_context(sched_a.gym):
            anns.refresh_from_db()
            assert anns.status == ClassBookingStatus.BOOKED


class TestIsolation:
    @pytest.fixture
    def bravo_class(self, crm_b: CrmGym) -> ClassOccurrence:
        with tenant_context(crm_b.gym):
            # Make the id one gym A does not have, so the request cannot hit a class of A's.
            occurrence = None
            for _ in range(3):
                occurrence = make_class(crm_b, name="Bravo spin")
        assert occurrence is not None
        return occurrence

    def test_gym_a_client_cannot_book_gym_b_class(
        self, sched_a: CrmGym, crm_b: CrmGym, bravo_class: ClassOccurrence
    ) -> None:
        cara_a = as_user(sched_a)
        with tenant_context(sched_a.gym):
            assert not ClassOccurrence.objects.filter(pk=bravo_class.pk).exists()
        # On gym A's host the id is nobody's.
        assert cara_a.post(book_url(bravo_class)).status_code == 404
        # On gym B's host gym A's session is no login at all.
        on_b = GymClient(crm_b.gym.subdomain)
        on_b.cookies["sessionid"] = cara_a.cookies["sessionid"].value
        response = on_b.post(book_url(bravo_class))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
        assert "Bravo spin" not in cara_a.get(URL).content.decode()
        with tenant_context(crm_b.gym):
            assert not ClassBooking.objects.filter(occurrence=bravo_class).exists()
