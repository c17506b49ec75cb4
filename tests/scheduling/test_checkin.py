"""Check-in: staff check a client in once (idempotent) to a class or a 1:1 session, through the
services, the API and the front-desk page with live search; the door kiosk checks a client in
to their own booking only, names them by first name only, and is rate-limited; gym A never
checks in gym B's bookings."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.scheduling.appointments import services
from apps.scheduling.classes import services as class_services
from apps.scheduling.models import (
    AppointmentStatus,
    ClassBooking,
    ClassBookingStatus,
    Strike,
)
from tests.conftest import GymClient
from tests.crm.conftest import CrmGym
from tests.scheduling.test_policies import api, make_appointment, make_class


def signed_in(crm: CrmGym, role: str) -> GymClient:
    client = GymClient(crm.gym.subdomain)
    client.force_login(crm.user(role))
    return client


def book(crm: CrmGym, occurrence, client) -> ClassBooking:  # type: ignore[no-untyped-def]
    return ClassBooking.objects.create(occurrence=occurrence, client=client)


class TestServices:
    def test_class_check_in_records_once(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            booking = book(crm_a, make_class(crm_a, in_hours=0.5), crm_a.ann)
            first = class_services.class_check_in(actor=crm_a.desk, booking=booking)
            assert first.status == ClassBookingStatus.ATTENDED
            assert first.checked_in_at is not None
            again = class_services.class_check_in(actor=crm_a.manager, booking=booking)
            assert again.checked_in_at == first.checked_in_at
            assert AuditEvent.objects.filter(action="class_booking.checked_in").count() == 1

    def test_appointment_check_in_records_once(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            appointment = make_appointment(crm_a, crm_a.ann, in_hours=0.25)
            first = services.appointment_check_in(actor=crm_a.desk, appointment=appointment)
            assert first.status == AppointmentStatus.COMPLETED
            assert first.checked_in_at is not None
            again = services.appointment_check_in(actor=crm_a.owner, appointment=appointment)
            assert again.checked_in_at == first.checked_in_at
            assert AuditEvent.objects.filter(action="appointment.checked_in").count() == 1

    def test_not_before_the_hour_before(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            booking = book(crm_a, make_class(crm_a, in_hours=3), crm_a.ann)
            with pytest.raises(ValidationError):
                class_services.class_check_in(actor=crm_a.desk, booking=booking)
            appointment = make_appointment(crm_a, crm_a.ann, in_hours=3)
            with pytest.raises(ValidationError):
                services.appointment_check_in(actor=crm_a.desk, appointment=appointment)

    def test_cancelled_bookings_cannot_be_checked_in(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            booking = book(crm_a, make_class(crm_a, in_hours=0.5), crm_a.ann)
            booking.status = ClassBookingStatus.CANCELLED
            booking.save()
            with pytest.raises(ValidationError):
                class_services.class_check_in(actor=crm_a.desk, booking=booking)

    def test_a_late_arrival_undoes_the_no_show_and_its_strike(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            booking = book(crm_a, make_class(crm_a, in_hours=-0.2), crm_a.ann)
            class_services.booking_mark_no_show(actor=crm_a.desk, booking=booking)
            assert Strike.objects.get().waived_at is None
            booking = class_services.class_check_in(actor=crm_a.desk, booking=booking)
            assert booking.status == ClassBookingStatus.ATTENDED
            assert Strike.objects.get().waived_at is not None

    def test_roles(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            occurrence = make_class(crm_a, in_hours=0.5)  # Tina's class
            booking = book(crm_a, occurrence, crm_a.ann)
            for role in ("tom", "cara"):
                with pytest.raises(PermissionDenied):
                    class_services.class_check_in(actor=crm_a.user(role), booking=booking)
            class_services.class_check_in(actor=crm_a.tina.user, booking=booking)
            appointment = make_appointment(crm_a, crm_a.ann, in_hours=0.5)  # with Tina
            for role in ("tom", "cara"):
                with pytest.raises(PermissionDenied):
                    services.appointment_check_in(actor=crm_a.user(role), appointment=appointment)
            services.appointment_check_in(actor=crm_a.tina.user, appointment=appointment)


class TestApi:
    def test_class_check_in_is_idempotent(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            occurrence = make_class(crm_a, in_hours=0.5)
            book(crm_a, occurrence, crm_a.ann)
            book(crm_a, occurrence, crm_a.cara)
        url = f"/api/v1/occurrences/{occurrence.pk}/check_in/"
        desk = api(crm_a, "desk")
        first = desk.post(url, {"client": crm_a.ann.pk})
        assert first.status_code == 200
        assert first.json()["status"] == "attended"
        second = desk.post(url, {"client": crm_a.ann.pk})
        assert second.status_code == 200
        assert second.json()["checked_in_at"] == first.json()["checked_in_at"]
        missing = desk.post(url, {"client": crm_a.bob.pk})
        assert missing.status_code == 404
        assert desk.post(url, {}).json()["errors"]["client"]
        # A client does not check themselves in through the API (the kiosk is for that).
        assert api(crm_a, "cara").post(url, {"client": crm_a.cara.pk}).status_code == 404
        # Tina checks in anyone booked into her class, her assigned clients or not (Cara is
        # Tom's); Tom cannot check in to Tina's class.
        assert api(crm_a, "tom").post(url, {"client": crm_a.cara.pk}).status_code == 404
        tina = api(crm_a, "tina").post(url, {"client": crm_a.cara.pk})
        assert tina.status_code == 200
        assert tina.json()["status"] == "attended"

    def test_appointment_check_in_is_idempotent(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            appointment = make_appointment(crm_a, crm_a.ann, in_hours=0.5)
        url = f"/api/v1/appointments/{appointment.pk}/check_in/"
        first = api(crm_a, "desk").post(url)
        assert first.status_code == 200
        assert first.json()["status"] == "completed"
        assert first.json()["checked_in_at"]
        second = api(crm_a, "manager").post(url)
        assert second.json()["checked_in_at"] == first.json()["checked_in_at"]
        # Tom does not see Tina's session at all.
        assert api(crm_a, "tom").post(url).status_code == 404

    def test_gym_a_cannot_check_in_gym_b(self, crm_a: CrmGym, crm_b: CrmGym) -> None:
        with tenant_context(crm_b.gym):
            occurrence = make_class(crm_b, in_hours=0.5, name="Bravo only")
            book(crm_b, occurrence, crm_b.ann)
            appointment = make_appointment(crm_b, crm_b.ann, in_hours=0.5)
        desk_a = api(crm_a, "desk")
        # Gym A has no classes or sessions at all: whatever the ids, they are not found.
        response = desk_a.post(
            f"/api/v1/occurrences/{occurrence.pk}/check_in/", {"client": crm_a.ann.pk}
        )
        assert response.status_code == 404
        assert desk_a.post(f"/api/v1/appointments/{appointment.pk}/check_in/").status_code == 404
        with tenant_context(crm_b.gym):
            assert not ClassBooking.objects.filter(status="attended").exists()
            appointment.refresh_from_db()
            assert appointment.checked_in_at is None


class TestCheckinPage:
    def test_today_with_live_search_and_one_tap(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            occurrence = make_class(crm_a, in_hours=0.5)
            ann = book(crm_a, occurrence, crm_a.ann)
            book(crm_a, occurrence, crm_a.bob)
            appointment = make_appointment(crm_a, crm_a.cara, in_hours=0.25)
            later = make_class(crm_a, in_hours=24 * 3, name="Later")
            book(crm_a, later, crm_a.cara)
        page = signed_in(crm_a, "desk")
        response = page.get("/schedule/checkin/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "Ann Able" in html
        assert "Bob Baker" in html
        assert "Cara Cole" in html
        assert "Later" not in html
        partial = page.get("/schedule/checkin/?search=able", HTTP_HX_REQUEST="true")
        html = partial.content.decode()
        assert "<html" not in html
        assert "Ann Able" in html
        assert "Bob Baker" not in html
        by_phone = page.get("/schedule/checkin/?search=900001", HTTP_HX_REQUEST="true")
        assert "Ann Able" in by_phone.content.decode()
        row = page.post(f"/schedule/checkin/classes/{ann.pk}/", HTTP_HX_REQUEST="true")
        assert row.status_code == 200
        assert "Checked in" in row.content.decode()
        again = page.post(f"/schedule/checkin/classes/{ann.pk}/")
        assert again.status_code == 302
        response = page.post(f"/schedule/checkin/appointments/{appointment.pk}/")
        assert response.status_code == 302
        with tenant_context(crm_a.gym):
            ann.refresh_from_db()
            appointment.refresh_from_db()
            assert ann.status == ClassBookingStatus.ATTENDED
            assert appointment.checked_in_at is not None
            assert AuditEvent.objects.filter(action="class_booking.checked_in").count() == 1

    def test_roles(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            occurrence = make_class(crm_a, in_hours=0.5)
            booking = book(crm_a, occurrence, crm_a.ann)
        assert signed_in(crm_a, "cara").get("/schedule/checkin/").status_code == 403
        assert GymClient(crm_a.gym.subdomain).get("/schedule/checkin/").status_code == 302
        # Tom sees no one in Tina's class and cannot check them in.
        tom = signed_in(crm_a, "tom")
        assert "Ann Able" not in tom.get("/schedule/checkin/").content.decode()
        assert tom.post(f"/schedule/checkin/classes/{booking.pk}/").status_code == 404
        tina = signed_in(crm_a, "tina")
        assert "Ann Able" in tina.get("/schedule/checkin/").content.decode()

    def test_gym_a_cannot_check_in_gym_b(self, crm_a: CrmGym, crm_b: CrmGym) -> None:
        with tenant_context(crm_b.gym):
            booking = book(crm_b, make_class(crm_b, in_hours=0.5, name="Bravo"), crm_b.ann)
        page = signed_in(crm_a, "owner")
        assert "Bravo" not in page.get("/schedule/checkin/").content.decode()
        # Gym A has no bookings at all: whatever the id, it is not found.
        assert page.post(f"/schedule/checkin/classes/{booking.pk}/").status_code == 404
        with tenant_context(crm_b.gym):
            booking.refresh_from_db()
            assert booking.status == ClassBookingStatus.BOOKED

    def test_query_count_is_constant(self, crm_a: CrmGym) -> None:
        page = signed_in(crm_a, "desk")

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert page.get("/schedule/checkin/").status_code == 200
            return len(queries)

        with tenant_context(crm_a.gym):
            occurrence = make_class(crm_a, in_hours=0.5)
            book(crm_a, occurrence, crm_a.ann)
            make_appointment(crm_a, crm_a.ann, in_hours=0.25)
        few = count()
        with tenant_context(crm_a.gym):
            other = make_class(crm_a, in_hours=0.7, name="Other")
            book(crm_a, occurrence, crm_a.bob)
            book(crm_a, other, crm_a.cara)
            book(crm_a, other, crm_a.ann)
            make_appointment(crm_a, crm_a.bob, in_hours=0.4, trainer=crm_a.tom)
        assert count() == few


class TestKiosk:
    def test_a_client_checks_in_to_their_own_booking(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            occurrence = make_class(crm_a, in_hours=0.5)
            ann = book(crm_a, occurrence, crm_a.ann)
            bob = book(crm_a, occurrence, crm_a.bob)
        kiosk = signed_in(crm_a, "desk")
        page = kiosk.get("/schedule/kiosk/")
        assert page.status_code == 200
        html = page.content.decode()
        # No staff navigation on the tablet.
        assert "/clients/" not in html
        response = kiosk.post("/schedule/kiosk/", {"identifier": "  ANN@alpha.example "})
        html = response.content.decode()
        assert 'data-testid="kiosk-ok"' in html
        assert "Ann" in html
        assert "Able" not in html
        assert "Bob" not in html
        with tenant_context(crm_a.gym):
            ann.refresh_from_db()
            bob.refresh_from_db()
            assert ann.status == ClassBookingStatus.ATTENDED
            assert bob.status == ClassBookingStatus.BOOKED
            event = AuditEvent.objects.get(action="class_booking.checked_in")
            assert event.changes["via_kiosk"] == {"before": None, "after": True} or (
                event.changes["via_kiosk"] == [None, True]
            )

    def test_by_phone_and_appointments(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            appointment = make_appointment(crm_a, crm_a.ann, in_hours=0.5)
        response = signed_in(crm_a, "desk").post(
            "/schedule/kiosk/", {"identifier": "+44 (7700) 900-001"}
        )
        assert 'data-testid="kiosk-ok"' in response.content.decode()
        with tenant_context(crm_a.gym):
            appointment.refresh_from_db()
            assert appointment.checked_in_at is not None

    def test_phone_as_people_type_it_but_never_part_of_one(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            appointment = make_appointment(crm_a, crm_a.ann, in_hours=0.5)
        kiosk = signed_in(crm_a, "desk")
        # Part of the number is not enough: a kiosk must not let anyone guess.
        for partial in ("900001", "7700 9000"):
            html = kiosk.post("/schedule/kiosk/", {"identifier": partial}).content.decode()
            assert 'data-testid="kiosk-miss"' in html
        # The national format of the stored +447700900001.
        html = kiosk.post("/schedule/kiosk/", {"identifier": "07700 900001"}).content.decode()
        assert 'data-testid="kiosk-ok"' in html
        with tenant_context(crm_a.gym):
            appointment.refresh_from_db()
            assert appointment.checked_in_at is not None

    def test_nothing_soon_or_nobody_says_the_same(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            later = book(crm_a, make_class(crm_a, in_hours=3), crm_a.ann)
            gone = book(crm_a, make_class(crm_a, in_hours=-1, name="Earlier"), crm_a.bob)
        kiosk = signed_in(crm_a, "desk")
        answers = [
            kiosk.post("/schedule/kiosk/", {"identifier": identifier}).content.decode()
            for identifier in ("ann@alpha.example", "bob@alpha.example", "nobody@alpha.example")
        ]
        for html in answers:
            assert 'data-testid="kiosk-miss"' in html
            assert "Ann" not in html
            assert "Bob" not in html
        with tenant_context(crm_a.gym):
            later.refresh_from_db()
            gone.refresh_from_db()
            assert later.status == gone.status == ClassBookingStatus.BOOKED

    def test_only_staff_at_the_desk_open_it(self, crm_a: CrmGym) -> None:
        assert GymClient(crm_a.gym.subdomain).get("/schedule/kiosk/").status_code == 302
        for role in ("cara", "tina"):
            assert signed_in(crm_a, role).get("/schedule/kiosk/").status_code == 403
        for role in ("desk", "manager", "owner"):
            assert signed_in(crm_a, role).get("/schedule/kiosk/").status_code == 200

    def test_rate_limited_against_guessing(self, crm_a: CrmGym) -> None:
        kiosk = signed_in(crm_a, "desk")
        statuses = [
            kiosk.post("/schedule/kiosk/", {"identifier": f"guess{n}@alpha.example"}).status_code
            for n in range(12)
        ]
        assert statuses[0] == 200
        assert statuses[-1] == 429

    def test_gym_b_clients_are_unknown_in_gym_a(self, crm_a: CrmGym, crm_b: CrmGym) -> None:
        with tenant_context(crm_b.gym):
            booking = book(crm_b, make_class(crm_b, in_hours=0.5, name="Bravo"), crm_b.ann)
        response = signed_in(crm_a, "desk").post(
            "/schedule/kiosk/", {"identifier": "ann@bravo.example"}
        )
        assert 'data-testid="kiosk-miss"' in response.content.decode()
        with tenant_context(crm_b.gym):
            booking.refresh_from_db()
            assert booking.status == ClassBookingStatus.BOOKED
