"""A waitlist place holds a credit (or an allowance) while it waits; when the class starts and no
spot freed up, the place ends `waitlist_expired`, what it used comes back once however often
the expiry runs, the client is told once, and booked clients, classes not started yet and
cancelled classes are left alone. Beat runs it every 15 minutes in every gym; the portal and
the roster say what happened."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.billing.models import CreditGrant, CreditKind, EntitlementUse
from apps.billing.services import pack_sell
from apps.crm.models import Client
from apps.notifications.models import Delivery, Notification
from apps.scheduling.classes import services as class_services
from apps.scheduling.classes import timetable
from apps.scheduling.models import ClassBooking, ClassBookingStatus, ClassOccurrence
from apps.scheduling.tasks import expire_waitlists
from tests.billing.factories import make_pack, require_memberships
from tests.conftest import GymClient
from tests.crm.conftest import CrmGym
from tests.scheduling.test_classes import make_class

pytestmark = pytest.mark.django_db


def credits_for(crm: CrmGym, client: Client, n: int) -> CreditGrant:
    pack = make_pack(crm.owner, credits=n, kind=CreditKind.CLASS, name=f"{n} for {client.pk}")
    return pack_sell(actor=crm.desk, client=client, pack=pack, payment_kind="offline_cash")


def remaining(client: Client) -> int:
    return CreditGrant.objects.get(client=client).remaining


def start(occurrence: ClassOccurrence, *, minutes_ago: int = 5) -> None:
    """The class started `minutes_ago` (it was booked while still open)."""
    starts_at = timezone.now() - timedelta(minutes=minutes_ago)
    ClassOccurrence.objects.filter(pk=occurrence.pk).update(
        starts_at=starts_at, ends_at=starts_at + timedelta(hours=1)
    )


def full_class_with_a_waitlist(
    crm: CrmGym, *, in_hours: float = 48
) -> tuple[ClassBooking, ClassBooking]:
    """Ann holds the one spot, Cara waits; each used a credit when the gym requires
    memberships (call inside the gym)."""
    occurrence = make_class(crm, capacity=1, in_hours=in_hours)
    booked = class_services.class_book(actor=crm.desk, occurrence=occurrence, client=crm.ann)
    waiting = class_services.class_book(actor=crm.desk, occurrence=occurrence, client=crm.cara)
    assert waiting.status == ClassBookingStatus.WAITLISTED
    return booked, waiting


def deliveries(kind: str = "waitlist_expired") -> list[tuple[str, int | None]]:
    return sorted(Delivery.objects.filter(kind=kind).values_list("channel", "recipient_client_id"))


@pytest.fixture
def paying(sched_a: CrmGym) -> CrmGym:
    """Gym A requires memberships; Ann and Cara have 2 credits each."""
    with tenant_context(sched_a.gym):
        require_memberships()
        credits_for(sched_a, sched_a.ann, 2)
        credits_for(sched_a, sched_a.cara, 2)
    return sched_a


def test_a_place_still_waiting_when_the_class_starts_gives_its_credit_back_once(
    paying: CrmGym, django_capture_on_commit_callbacks
) -> None:
    crm = paying
    with tenant_context(crm.gym):
        booked, waiting = full_class_with_a_waitlist(crm)
        assert remaining(crm.cara) == 1  # the waitlist place took one
        start(booked.occurrence)
        with django_capture_on_commit_callbacks(execute=True):
            assert class_services.waitlists_expire() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert class_services.waitlists_expire() == 0
        waiting.refresh_from_db()
        assert waiting.status == ClassBookingStatus.WAITLIST_EXPIRED
        assert waiting.waitlist_position is None
        assert remaining(crm.cara) == 2
        assert EntitlementUse.objects.get(booking_ref=f"class:{waiting.pk}").returned_at
        # The booked client keeps their spot and what it used.
        booked.refresh_from_db()
        assert booked.status == ClassBookingStatus.BOOKED
        assert remaining(crm.ann) == 1
        assert EntitlementUse.objects.get(booking_ref=f"class:{booked.pk}").returned_at is None
        events = AuditEvent.objects.filter(action="class_booking.waitlist_expired")
        assert [event.object_id for event in events] == [str(waiting.pk)]
        assert events[0].changes["entitlement_returned"] == [None, True]
        assert AuditEvent.objects.filter(action="entitlement.returned").count() == 1
        # Cara is told once (in the app, as she has a login, and by email), nobody else.
        assert deliveries() == [("email", crm.cara.pk), ("in_app", crm.cara.pk)]
        notification = Notification.objects.get(kind="waitlist_expired")
        assert notification.recipient == crm.cara_user
        assert "given back" in notification.body


def test_classes_not_started_and_cancelled_classes_are_left_alone(paying: CrmGym) -> None:
    crm = paying
    with tenant_context(crm.gym):
        _, later = full_class_with_a_waitlist(crm)
        cancelled_booked, cancelled_waiting = full_class_with_a_waitlist(crm, in_hours=50)
        timetable.occurrence_cancel(actor=crm.manager, occurrence=cancelled_booked.occurrence)
        start(cancelled_booked.occurrence)
        # Cancelling gave the cancelled class's credit back; the later class holds one.
        assert remaining(crm.cara) == 1
        assert class_services.waitlists_expire() == 0
        for booking in (later, cancelled_waiting):
            booking.refresh_from_db()
            assert booking.status == ClassBookingStatus.WAITLISTED
        assert remaining(crm.cara) == 1
        assert not Delivery.objects.filter(kind="waitlist_expired").exists()


def test_a_class_that_started_moments_ago_expires_only_its_waitlist(paying: CrmGym) -> None:
    crm = paying
    with tenant_context(crm.gym):
        booked, waiting = full_class_with_a_waitlist(crm)
        start(booked.occurrence, minutes_ago=0)
        now = timezone.now()
        # Just before the start nothing happens; from the start on it does.
        assert class_services.waitlists_expire(now=now - timedelta(minutes=1)) == 0
        assert class_services.waitlists_expire(now=now + timedelta(seconds=1)) == 1
        waiting.refresh_from_db()
        assert waiting.status == ClassBookingStatus.WAITLIST_EXPIRED


def test_without_memberships_nothing_comes_back_and_the_message_says_no_credit(
    sched_a: CrmGym, django_capture_on_commit_callbacks
) -> None:
    with tenant_context(sched_a.gym):
        booked, waiting = full_class_with_a_waitlist(sched_a)
        start(booked.occurrence)
        with django_capture_on_commit_callbacks(execute=True):
            assert class_services.waitlists_expire() == 1
        waiting.refresh_from_db()
        assert waiting.status == ClassBookingStatus.WAITLIST_EXPIRED
        assert not EntitlementUse.objects.exists()
        notification = Notification.objects.get(kind="waitlist_expired")
        assert "no spot freed up" in notification.body
        assert "given back" not in notification.body


def test_the_beat_task_runs_it_every_15_minutes_in_every_gym(paying: CrmGym) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["class-waitlists-expire"]
    assert entry["task"] == "core.fan_out_to_gyms"
    assert entry["args"] == ["scheduling.expire_waitlists"]
    assert entry["schedule"] == 15 * 60.0
    crm = paying
    with tenant_context(crm.gym):
        booked, waiting = full_class_with_a_waitlist(crm)
        start(booked.occurrence)
        # The task as the fan-out sends it into the gym's schema.
        assert expire_waitlists.apply().get() == 1
        assert expire_waitlists.apply().get() == 0
        waiting.refresh_from_db()
        assert waiting.status == ClassBookingStatus.WAITLIST_EXPIRED
        assert remaining(crm.cara) == 2


def test_the_portal_and_the_roster_say_what_happened(paying: CrmGym) -> None:
    crm = paying
    with tenant_context(crm.gym):
        booked, _waiting = full_class_with_a_waitlist(crm)
        start(booked.occurrence)
        class_services.waitlists_expire()
    portal = GymClient(crm.gym.subdomain)
    portal.force_login(crm.cara_user)
    page = portal.get("/portal/schedule/").content.decode()
    mine = page.split('data-testid="my-bookings"')[1].split("</ul>")[0]
    assert "No spot: the class started before one freed up" in mine
    assert "Waitlist: number" not in mine
    assert "Leave the waitlist" not in mine
    desk = GymClient(crm.gym.subdomain)
    desk.force_login(crm.desk)
    roster = desk.get(f"/schedule/classes/{booked.occurrence_id}/").content.decode()
    waitlist = roster.split('data-testid="waitlist"')[1]
    assert 'data-testid="waitlist-expired-row"' in waitlist
    assert "Cara Cole" in waitlist
    assert "No spot from the waitlist" in waitlist
    assert "#1 waiting" not in waitlist


def test_gym_b_is_untouched_by_gym_as_run(paying: CrmGym, crm_b: CrmGym) -> None:
    with tenant_context(crm_b.gym):
        b_booked, b_waiting = full_class_with_a_waitlist(crm_b)
        start(b_booked.occurrence)
    with tenant_context(paying.gym):
        assert class_services.waitlists_expire() == 0
    with tenant_context(crm_b.gym):
        b_waiting.refresh_from_db()
        assert b_waiting.status == ClassBookingStatus.WAITLISTED


def test_a_spot_freed_after_the_class_started_promotes_nobody(paying: CrmGym) -> None:
    crm = paying
    with tenant_context(crm.gym):
        booked, waiting = full_class_with_a_waitlist(crm)
        start(booked.occurrence)
        booked.refresh_from_db()
        class_services.class_cancel(actor=crm.desk, booking=booked)
        waiting.refresh_from_db()
        assert waiting.status == ClassBookingStatus.WAITLISTED
        class_services.waitlists_expire()
        waiting.refresh_from_db()
        assert waiting.status == ClassBookingStatus.WAITLIST_EXPIRED
        assert remaining(crm.cara) == 2
