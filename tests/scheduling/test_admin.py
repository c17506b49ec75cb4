"""Scheduling in the gym's Django admin: owners and managers with two-factor only; search and
filters work; writes go through the services (their audit events prove it); list pages keep a
flat query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClassBooking,
    ClassBookingStatus,
    Location,
    PolicySettings,
    Strike,
)
from tests.conftest import GymClient, activate_totp
from tests.crm.conftest import CrmGym
from tests.scheduling.test_policies import add_strikes, make_appointment, make_class

MODELS = (
    "location",
    "room",
    "availability",
    "availabilityexception",
    "appointment",
    "classtype",
    "classseries",
    "classoccurrence",
    "classbooking",
    "strike",
    "policysettings",
)


@pytest.fixture
def admin(crm_a: CrmGym) -> GymClient:
    with tenant_context(crm_a.gym):
        activate_totp(crm_a.manager)
    client = GymClient(crm_a.gym.subdomain)
    client.force_login(crm_a.manager)
    return client


def audited(crm: CrmGym, action: str) -> int:
    with tenant_context(crm.gym):
        return AuditEvent.objects.filter(action=action).count()


class TestAccess:
    def test_managers_see_every_scheduling_model(self, admin: GymClient) -> None:
        index = admin.get("/admin/").content.decode()
        for model in MODELS:
            assert f"/admin/scheduling/{model}/" in index

    def test_front_desk_is_kept_out(self, crm_a: CrmGym) -> None:
        with tenant_context(crm_a.gym):
            crm_a.desk.is_staff = True
            crm_a.desk.save(update_fields=["is_staff"])
        desk = GymClient(crm_a.gym.subdomain)
        desk.force_login(crm_a.desk)
        assert desk.get("/admin/scheduling/strike/").status_code == 403


class TestChangelists:
    @pytest.mark.parametrize(
        "path",
        [
            "/admin/scheduling/appointment/?q=ann&status__exact=booked",
            "/admin/scheduling/classbooking/?q=able&status__exact=booked",
            "/admin/scheduling/strike/?waived=no&kind__exact=no_show&q=ann",
            "/admin/scheduling/classoccurrence/?is_cancelled__exact=0",
            "/admin/scheduling/room/?q=studio",
            "/admin/scheduling/location/?q=main",
            "/admin/scheduling/classtype/?q=yoga",
            "/admin/scheduling/availability/",
            "/admin/scheduling/availabilityexception/",
            "/admin/scheduling/classseries/",
            "/admin/scheduling/policysettings/",
        ],
    )
    def test_search_and_filters(self, admin: GymClient, path: str) -> None:
        assert admin.get(path).status_code == 200

    @pytest.mark.parametrize("model", ["appointment", "classbooking", "strike", "classoccurrence"])
    def test_query_count_does_not_grow_with_the_rows(
        self, crm_a: CrmGym, admin: GymClient, model: str
    ) -> None:
        def count() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert admin.get(f"/admin/scheduling/{model}/").status_code == 200
            return len(captured)

        with tenant_context(crm_a.gym):
            occurrence = make_class(crm_a, in_hours=1)
            ClassBooking.objects.create(occurrence=occurrence, client=crm_a.ann)
            make_appointment(crm_a, crm_a.ann, in_hours=1)
            add_strikes(crm_a.ann, 1)
        count()
        few = count()
        with tenant_context(crm_a.gym):
            for number, client in enumerate((crm_a.bob, crm_a.cara), start=2):
                other = make_class(crm_a, in_hours=number, name=f"Class {number}")
                ClassBooking.objects.create(occurrence=other, client=client)
                ClassBooking.objects.create(occurrence=other, client=crm_a.ann)
                make_appointment(crm_a, client, in_hours=number * 2)
                add_strikes(client, number, number + 1)
        assert count() == few


class TestWritesGoThroughServices:
    def test_waive_strikes_with_a_reason(self, crm_a: CrmGym, admin: GymClient) -> None:
        with tenant_context(crm_a.gym):
            strikes = add_strikes(crm_a.ann, 1, 2)
        data = {
            "action": "waive",
            ACTION_CHECKBOX_NAME: [str(strike.pk) for strike in strikes],
        }
        page = admin.post("/admin/scheduling/strike/", data)
        assert page.status_code == 200  # asks for the reason first
        response = admin.post("/admin/scheduling/strike/", {**data, "apply": "1", "reason": "Ill"})
        assert response.status_code == 302
        with tenant_context(crm_a.gym):
            assert set(Strike.objects.values_list("waive_reason", flat=True)) == {"Ill"}
        assert audited(crm_a, "strike.waived") == 2

    def test_check_in_and_no_show_actions(self, crm_a: CrmGym, admin: GymClient) -> None:
        with tenant_context(crm_a.gym):
            now_class = make_class(crm_a, in_hours=0.5)
            arrived = ClassBooking.objects.create(occurrence=now_class, client=crm_a.ann)
            past = make_class(crm_a, in_hours=-1, name="Past")
            missing = ClassBooking.objects.create(occurrence=past, client=crm_a.bob)
        admin.post(
            "/admin/scheduling/classbooking/",
            {"action": "check_in", ACTION_CHECKBOX_NAME: [str(arrived.pk)]},
        )
        admin.post(
            "/admin/scheduling/classbooking/",
            {"action": "mark_no_show", ACTION_CHECKBOX_NAME: [str(missing.pk)]},
        )
        with tenant_context(crm_a.gym):
            arrived.refresh_from_db()
            missing.refresh_from_db()
            assert arrived.status == ClassBookingStatus.ATTENDED
            assert missing.status == ClassBookingStatus.NO_SHOW
            assert Strike.objects.get().class_booking_id == missing.pk

    def test_appointment_status_action_records_a_strike(
        self, crm_a: CrmGym, admin: GymClient
    ) -> None:
        with tenant_context(crm_a.gym):
            appointment = make_appointment(crm_a, crm_a.ann, in_hours=-2)
        data = {"action": "set_status", ACTION_CHECKBOX_NAME: [str(appointment.pk)]}
        admin.post("/admin/scheduling/appointment/", {**data, "apply": "1", "status": "no_show"})
        with tenant_context(crm_a.gym):
            appointment.refresh_from_db()
            assert appointment.status == AppointmentStatus.NO_SHOW
            assert Strike.objects.filter(appointment=appointment).exists()
        assert audited(crm_a, "appointment.status_set") == 1

    def test_booking_an_appointment_goes_through_the_service(
        self, crm_a: CrmGym, admin: GymClient
    ) -> None:
        with tenant_context(crm_a.gym):
            add_strikes(crm_a.cara, 1, 2, 3)
        starts_at = timezone.localtime(timezone.now() + timedelta(days=2))
        form = {
            "trainer": crm_a.tom.pk,
            "starts_at_0": starts_at.strftime("%Y-%m-%d"),
            "starts_at_1": starts_at.strftime("%H:%M:%S"),
            "ends_at_0": (starts_at + timedelta(hours=1)).strftime("%Y-%m-%d"),
            "ends_at_1": (starts_at + timedelta(hours=1)).strftime("%H:%M:%S"),
            "video_link": "",
            "notes": "",
        }
        # A blocked client is refused with the service's message, nothing saved.
        refused = admin.post(
            "/admin/scheduling/appointment/add/", {**form, "client": crm_a.cara.pk}
        )
        assert refused.status_code == 302
        with tenant_context(crm_a.gym):
            assert not Appointment.objects.exists()
        response = admin.post(
            "/admin/scheduling/appointment/add/", {**form, "client": crm_a.bob.pk}
        )
        assert response.status_code == 302
        with tenant_context(crm_a.gym):
            assert Appointment.objects.get().client_id == crm_a.bob.pk
        assert audited(crm_a, "appointment.booked") == 1

    def test_policy_and_location_through_their_services(
        self, crm_a: CrmGym, admin: GymClient
    ) -> None:
        response = admin.post(
            "/admin/scheduling/policysettings/add/",
            {
                "strike_limit": 2,
                "window_days": 10,
                "block_days": 4,
                "appointment_late_cancel_hours": 6,
            },
        )
        assert response.status_code == 302
        with tenant_context(crm_a.gym):
            assert PolicySettings.objects.get().strike_limit == 2
        assert audited(crm_a, "policy.updated") == 1
        response = admin.post(
            "/admin/scheduling/location/add/",
            {
                "name": "Riverside",
                "address": "1 River Rd",
                "rooms-TOTAL_FORMS": "0",
                "rooms-INITIAL_FORMS": "0",
                "rooms-MIN_NUM_FORMS": "0",
                "rooms-MAX_NUM_FORMS": "1000",
            },
        )
        assert response.status_code == 302
        with tenant_context(crm_a.gym):
            assert Location.objects.filter(name="Riverside").exists()
        assert audited(crm_a, "location.created") == 1

    def test_editing_a_class_goes_through_occurrence_update(
        self, crm_a: CrmGym, admin: GymClient
    ) -> None:
        with tenant_context(crm_a.gym):
            occurrence = make_class(crm_a, in_hours=24, capacity=1)
            ClassBooking.objects.create(occurrence=occurrence, client=crm_a.ann)
            waiting = ClassBooking.objects.create(
                occurrence=occurrence, client=crm_a.bob, status="waitlisted", waitlist_position=1
            )
        starts_at = timezone.localtime(occurrence.starts_at)
        ends_at = timezone.localtime(occurrence.ends_at)
        response = admin.post(
            f"/admin/scheduling/classoccurrence/{occurrence.pk}/change/",
            {
                "starts_at_0": starts_at.strftime("%Y-%m-%d"),
                "starts_at_1": starts_at.strftime("%H:%M:%S"),
                "ends_at_0": ends_at.strftime("%Y-%m-%d"),
                "ends_at_1": ends_at.strftime("%H:%M:%S"),
                "trainer": crm_a.tina.pk,
                "room": "",
                "capacity": 2,
                "bookings-TOTAL_FORMS": "2",
                "bookings-INITIAL_FORMS": "2",
                "bookings-MIN_NUM_FORMS": "0",
                "bookings-MAX_NUM_FORMS": "1000",
            },
        )
        assert response.status_code == 302
        with tenant_context(crm_a.gym):
            waiting.refresh_from_db()
            # The raised capacity promoted the waitlist, as occurrence_update does.
            assert waiting.status == ClassBookingStatus.BOOKED
        assert audited(crm_a, "class_occurrence.updated") == 1
