"""Today, the staff home page: what each role sees of the day (classes with their bookings and
check-ins, 1:1 sessions, the next client due, leads and follow-ups), a new gym's set-up
checklist judged from its data, the one-click actions, bounded queries, and gym A never
touching gym B's bookings or leads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import Invitation
from apps.crm.models import Lead, LeadStatus
from apps.dashboard import selectors
from apps.scheduling.models import (
    Appointment,
    ClassBooking,
    ClassBookingStatus,
    ClassOccurrence,
    ClassSeries,
    ClassType,
    Location,
    Room,
)
from apps.tenants.models import OpeningHours
from apps.tenants.selectors import gym_today
from tests.conftest import GymClient
from tests.crm.conftest import CrmGym

HTMX = {"HX-Request": "true"}


def signed_in(crm: CrmGym, role: str) -> GymClient:
    client = GymClient(crm.gym.subdomain)
    client.force_login(crm.user(role))
    return client


def make_class(
    crm: CrmGym, *, in_minutes: int, trainer=None, name: str = "Spin"
) -> ClassOccurrence:  # type: ignore[no-untyped-def]
    """A class today: `in_minutes` from now, kept inside the gym's day so Today shows it."""
    class_type, _created = ClassType.objects.get_or_create(name=name)
    now = timezone.now()
    starts_at = now + timedelta(minutes=in_minutes)
    if timezone.localdate(starts_at) != timezone.localdate(now):
        pytest.skip("too close to midnight for a class later today")
    return ClassOccurrence.objects.create(
        class_type=class_type,
        trainer=trainer or crm.tina,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        capacity=10,
    )


def make_session(crm: CrmGym, client, *, in_minutes: int, trainer=None) -> Appointment:  # type: ignore[no-untyped-def]
    starts_at = timezone.now() + timedelta(minutes=in_minutes)
    return Appointment.objects.create(
        trainer=trainer or crm.tina,
        client=client,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
    )


class TestTheDay:
    def test_classes_carry_their_counts_and_a_trainer_sees_only_their_own(
        self, crm_a: CrmGym
    ) -> None:
        with tenant_context(crm_a.gym):
            tinas = make_class(crm_a, in_minutes=20, name="Spin")
            make_class(crm_a, in_minutes=25, trainer=crm_a.tom, name="Yoga")
            ClassBooking.objects.create(occurrence=tinas, client=crm_a.ann)
            ClassBooking.objects.create(
                occurrence=tinas, client=crm_a.bob, status=ClassBookingStatus.ATTENDED
            )
            ClassBooking.objects.create(
                occurrence=tinas,
                client=crm_a.cara,
                status=ClassBookingStatus.WAITLISTED,
                waitlist_position=1,
            )
            day = gym_today()
            seen = selectors.today_classes(viewer=crm_a.desk, day=day)
            assert [o.class_type.name for o in seen] == ["Spin", "Yoga"]
            assert (seen[0].booked, seen[0].checked_in, seen[0].waitlisted) == (2, 1, 1)
            own = selectors.today_classes(viewer=crm_a.tina.user, day=day)
            assert [o.class_type.name for o in own] == ["Spin"]
            assert selectors.today_classes(viewer=crm_a.cara_user, day=day) == []

    def test_next_due_is_the_earliest_not_checked_in(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            occurrence = make_class(crm_a, in_minutes=40)
            ClassBooking.objects.create(occurrence=occurrence, client=crm_a.ann)
            session = make_session(crm_a, crm_a.bob, in_minutes=10, trainer=crm_a.tom)
            due = selectors.next_due(viewer=crm_a.desk)
            assert due is not None
            assert due.appointment == session
            assert due.check_in_open
            # Tina's own day has only her class.
            due = selectors.next_due(viewer=crm_a.tina.user)
            assert due is not None
            assert due.client == crm_a.ann
            assert due.booking is not None
            session.checked_in_at = timezone.now()
            session.status = "completed"
            session.save()
            due = selectors.next_due(viewer=crm_a.desk)
            assert due is not None
            assert due.client == crm_a.ann

    def test_leads_and_follow_ups_for_those_who_handle_leads(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            old = Lead.objects.create(
                first_name="Olga", email="olga@example.com", status=LeadStatus.CONTACTED
            )
            Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=5))
            Lead.objects.create(
                first_name="Fresh", email="fresh@example.com", status=LeadStatus.CONTACTED
            )
            leads, total = selectors.new_leads(viewer=crm_a.desk)
            assert [lead.first_name for lead in leads] == [crm_a.lead.first_name]
            assert total == 1
            assert [lead.first_name for lead in selectors.follow_ups(viewer=crm_a.desk)] == ["Olga"]
            assert selectors.new_leads(viewer=crm_a.tina.user) == ([], 0)
            assert selectors.follow_ups(viewer=crm_a.tina.user) == []

    def test_the_reads_are_bounded_whatever_the_size_of_the_day(self, crm_a: CrmGym) -> None:
        def count_queries() -> int:
            with CaptureQueriesContext(connection) as queries:
                day = gym_today()
                selectors.today_classes(viewer=crm_a.desk, day=day)
                selectors.today_sessions(viewer=crm_a.desk, day=day)
                selectors.next_due(viewer=crm_a.desk)
                selectors.new_leads(viewer=crm_a.desk)
                selectors.follow_ups(viewer=crm_a.desk)
                selectors.setup_checklist(viewer=crm_a.owner)
            return len(queries)

        with tenant_context(crm_a.gym):
            occurrence = make_class(crm_a, in_minutes=30)
            ClassBooking.objects.create(occurrence=occurrence, client=crm_a.ann)
            make_session(crm_a, crm_a.ann, in_minutes=15)
            small = count_queries()
            for index in range(6):
                more = make_class(crm_a, in_minutes=31 + index, name=f"Class {index}")
                ClassBooking.objects.create(occurrence=more, client=crm_a.bob)
                make_session(crm_a, crm_a.bob, in_minutes=60 + 31 * index, trainer=crm_a.tom)
                Lead.objects.create(first_name=f"Lead {index}", email=f"lead{index}@example.com")
            assert count_queries() == small


class TestSetupChecklist:
    def test_a_new_gym_starts_with_what_it_has(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            checklist = selectors.setup_checklist(viewer=crm_a.owner)
            assert checklist is not None
            done = {step.key: step.done for step in checklist.steps}
            # The CRM fixture has trainers, clients and a team, nothing else.
            assert done == {
                "hours": False,
                "rooms": False,
                "trainers": True,
                "timetable": False,
                "clients": True,
                "team": True,
                "branding": False,
                "payments": False,
            }
            assert all(step.url for step in checklist.steps)
            assert 0 < checklist.percent < 100
            assert not checklist.complete
            assert selectors.setup_checklist(viewer=crm_a.desk) is None
            # Stripe is the owner's to connect: a manager is sent to the price list.
            manager_steps = selectors.setup_checklist(viewer=crm_a.manager).steps
            assert manager_steps[-1].url == "/billing/"

    def test_steps_are_done_by_the_data(self, crm_a: CrmGym) -> None:
        from datetime import time

        with tenant_context(crm_a.gym):
            OpeningHours.objects.create(
                gym=crm_a.gym, weekday=0, opens_at=time(6), closes_at=time(22)
            )
            Room.objects.create(location=Location.objects.create(name="Main"), name="Studio")
            series = {
                "class_type": ClassType.objects.create(name="Spin"),
                "capacity": 10,
                "duration_minutes": 45,
                "rrule": "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=18;BYMINUTE=0",
                "starts_on": timezone.localdate(),
            }
            if any(f.name == "local_start_time" for f in ClassSeries._meta.fields):
                series["local_start_time"] = time(18)
            ClassSeries.objects.create(**series)
            crm_a.gym.brand_colour = "#aa3300"
            crm_a.gym.save(update_fields=["brand_colour"])
            done = {s.key: s.done for s in selectors.setup_checklist(viewer=crm_a.owner).steps}
            assert done["hours"]
            assert done["rooms"]
            assert done["timetable"]
            assert done["branding"]

    def test_invitations_count_as_inviting_the_team(self, gym_a, owner_a) -> None:  # type: ignore[no-untyped-def]
        with tenant_context(gym_a):
            done = {s.key: s.done for s in selectors.setup_checklist(viewer=owner_a).steps}
            assert not done["team"]
            assert not done["clients"]
            assert not done["trainers"]
            Invitation.objects.create(
                email="new@alpha.example", role="trainer", token_hash="x" * 64, invited_by=owner_a
            )
            done = {s.key: s.done for s in selectors.setup_checklist(viewer=owner_a).steps}
            assert done["team"]


class TestHomePage:
    @pytest.mark.parametrize("role", ["owner", "manager", "desk", "tina"])
    def test_each_role_gets_its_day_in_bounded_queries(
        self, crm_a: CrmGym, role: str, django_assert_max_num_queries
    ) -> None:
        with tenant_context(crm_a.gym):
            for index in range(5):
                occurrence = make_class(crm_a, in_minutes=20 + index, name=f"Class {index}")
                ClassBooking.objects.create(occurrence=occurrence, client=crm_a.ann)
                make_session(crm_a, crm_a.bob, in_minutes=30 + 31 * index)
        client = signed_in(crm_a, role)
        with django_assert_max_num_queries(40):
            response = client.get("/")
        assert response.status_code == 200
        body = response.content.decode()
        assert 'data-testid="today-classes"' in body
        assert "Class 4" in body
        assert ('data-testid="new-leads"' in body) == (role != "tina")
        assert ('data-testid="setup-checklist"' in body) == (role in ("owner", "manager"))
        assert ('data-testid="my-clients"' in body) == (role == "tina")

    def test_the_navigation_marks_the_current_page(self, crm_a: CrmGym) -> None:
        body = signed_in(crm_a, "desk").get("/clients/").content.decode()
        assert 'href="/clients/" class="nav-link" aria-current="page"' in body
        assert 'href="/" class="nav-link" aria-current' not in body
        # The front desk does not build plans or run the gym's settings.
        assert 'href="/training/plans/"' not in body
        assert 'href="/audit/"' not in body


class TestOneClick:
    def test_check_in_the_next_client_from_today(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            booking = ClassBooking.objects.create(
                occurrence=make_class(crm_a, in_minutes=20), client=crm_a.ann
            )
            session = make_session(crm_a, crm_a.bob, in_minutes=10)
        desk = signed_in(crm_a, "desk")
        response = desk.post(f"/today/class-bookings/{booking.pk}/check-in/", headers=HTMX)
        assert response.status_code == 200
        assert 'id="today-schedule"' in response.content.decode()
        response = desk.post(f"/today/appointments/{session.pk}/check-in/")
        assert response.status_code == 302
        assert response["Location"] == "/"
        with tenant_context(crm_a.gym):
            booking.refresh_from_db()
            session.refresh_from_db()
            assert booking.status == ClassBookingStatus.ATTENDED
            assert session.checked_in_at is not None

    def test_a_trainer_checks_in_only_their_own(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            session = make_session(crm_a, crm_a.bob, in_minutes=10)
        response = signed_in(crm_a, "tom").post(f"/today/appointments/{session.pk}/check-in/")
        assert response.status_code == 404

    def test_lead_actions(self, crm_a: CrmGym) -> None:
        desk = signed_in(crm_a, "desk")
        lead = crm_a.lead
        response = desk.post(f"/today/leads/{lead.pk}/contacted/", headers=HTMX)
        assert response.status_code == 200
        assert 'id="today-leads"' in response.content.decode()
        with tenant_context(crm_a.gym):
            lead.refresh_from_db()
            assert lead.status == LeadStatus.CONTACTED
        assert desk.post(f"/today/leads/{lead.pk}/convert/").status_code == 302
        with tenant_context(crm_a.gym):
            lead.refresh_from_db()
            assert lead.status == LeadStatus.CONVERTED
            assert lead.client_id
        assert desk.post(f"/today/leads/{lead.pk}/delete/").status_code == 404
        assert signed_in(crm_a, "tina").post(f"/today/leads/{lead.pk}/lost/").status_code == 403
        assert desk.get(f"/today/leads/{lead.pk}/lost/").status_code == 405

    def test_gym_a_cannot_touch_gym_b(self, crm_a: CrmGym, crm_b: CrmGym) -> None:
        with tenant_context(crm_b.gym):
            booking = ClassBooking.objects.create(
                occurrence=make_class(crm_b, in_minutes=20), client=crm_b.ann
            )
            session = make_session(crm_b, crm_b.bob, in_minutes=10)
            lead = Lead.objects.create(first_name="Bravo", last_name="Only", email="b@example.com")
        desk_a = signed_in(crm_a, "desk")
        assert desk_a.post(f"/today/class-bookings/{booking.pk}/check-in/").status_code == 404
        assert desk_a.post(f"/today/appointments/{session.pk}/check-in/").status_code == 404
        assert desk_a.post(f"/today/leads/{lead.pk}/contacted/").status_code == 404
        assert "Bravo" not in desk_a.get("/").content.decode()
        with tenant_context(crm_b.gym):
            booking.refresh_from_db()
            session.refresh_from_db()
            lead.refresh_from_db()
            assert booking.status == ClassBookingStatus.BOOKED
            assert session.checked_in_at is None
            assert lead.status == LeadStatus.NEW
