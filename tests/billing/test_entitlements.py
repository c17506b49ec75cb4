"""Booking uses what the client holds, under the spot's lock: a membership's allowance or one
credit; cancelling in time gives it back, a late cancel forfeits it; nothing valid is the same
error naming `membership` everywhere; managers override; gyms that do not require memberships
book as before; 50 bookings racing for the last 5 credits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.billing import services
from apps.billing.models import CreditGrant, CreditKind, EntitlementUse, Grant, MembershipStatus
from apps.scheduling.appointments import services as appointment_services
from apps.scheduling.classes import services as class_services
from apps.scheduling.models import ClassBookingStatus
from tests.billing.factories import make_pack, make_plan, require_memberships
from tests.crm.conftest import CrmGym
from tests.scheduling.conftest import crm_a, sched_a  # noqa: F401
from tests.scheduling.test_classes import make_class


def _credits(crm: CrmGym, client, n: int, *, kind: str = CreditKind.CLASS) -> CreditGrant:  # type: ignore[no-untyped-def]
    pack = make_pack(crm.owner, credits=n, kind=kind, name=f"{n} {kind}")
    return services.pack_sell(actor=crm.desk, client=client, pack=pack, payment_kind="offline_cash")


def test_without_the_setting_everyone_books_as_before(sched_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(sched_a.gym):
        occurrence = make_class(sched_a)
        booking = class_services.class_book(
            actor=sched_a.desk, occurrence=occurrence, client=sched_a.bob
        )
        assert booking.status == ClassBookingStatus.BOOKED
        assert not EntitlementUse.objects.exists()


def test_nothing_valid_refuses_naming_membership(sched_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(sched_a.gym):
        require_memberships()
        occurrence = make_class(sched_a)
        with pytest.raises(ValidationError) as error:
            class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=sched_a.bob)
        assert "membership" in error.value.message_dict
        # Rolled back with the refusal: no booking, no audit event of one.
        assert not occurrence.bookings.exists()


def test_a_credit_is_used_and_given_back_on_a_timely_cancel(sched_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(sched_a.gym):
        require_memberships()
        credit = _credits(sched_a, sched_a.bob, 2)
        occurrence = make_class(sched_a, in_hours=72)
        booking = class_services.class_book(
            actor=sched_a.desk, occurrence=occurrence, client=sched_a.bob
        )
        credit.refresh_from_db()
        assert credit.remaining == 1
        class_services.class_cancel(actor=sched_a.desk, booking=booking)
        credit.refresh_from_db()
        assert credit.remaining == 2


def test_a_late_cancel_forfeits_the_credit(sched_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(sched_a.gym):
        require_memberships()
        credit = _credits(sched_a, sched_a.bob, 2)
        occurrence = make_class(sched_a, in_hours=3)  # inside the 12-hour late-cancel window
        booking = class_services.class_book(
            actor=sched_a.desk, occurrence=occurrence, client=sched_a.bob
        )
        booking = class_services.class_cancel(actor=sched_a.desk, booking=booking)
        assert booking.status == ClassBookingStatus.LATE_CANCELLED
        credit.refresh_from_db()
        assert credit.remaining == 1


def test_a_class_the_gym_cancels_gives_credits_back(sched_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(sched_a.gym):
        require_memberships()
        credit = _credits(sched_a, sched_a.bob, 1)
        occurrence = make_class(sched_a, in_hours=3)
        booking = class_services.class_book(
            actor=sched_a.desk, occurrence=occurrence, client=sched_a.bob
        )
        assert (
            services.class_entitlements_return(actor=sched_a.manager, booking_pks=[booking.pk]) == 1
        )
        # Twice returns once: the timetable's cancel (below) gives nothing more back.
        assert (
            services.class_entitlements_return(actor=sched_a.manager, booking_pks=[booking.pk]) == 0
        )
        credit.refresh_from_db()
        assert credit.remaining == 1


def test_expired_credits_do_not_count(sched_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(sched_a.gym):
        require_memberships()
        credit = _credits(sched_a, sched_a.bob, 3)
        CreditGrant.objects.filter(pk=credit.pk).update(
            expires_at=timezone.now() - timedelta(days=1)
        )
        with pytest.raises(ValidationError):
            class_services.class_book(
                actor=sched_a.desk, occurrence=make_class(sched_a), client=sched_a.bob
            )


def test_a_weekly_allowance_then_credits(sched_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(sched_a.gym):
        require_memberships()
        plan = make_plan(sched_a.owner, grant=Grant.CLASSES_PER_WEEK, grant_count=1)
        services.membership_sell(
            actor=sched_a.desk, client=sched_a.bob, plan=plan, payment_kind="offline_cash"
        )
        first = make_class(sched_a, in_hours=26)
        second = make_class(sched_a, capacity=3, in_hours=27)
        class_services.class_book(actor=sched_a.desk, occurrence=first, client=sched_a.bob)
        use = EntitlementUse.objects.get()
        assert use.membership is not None
        assert use.credit is None
        # The same week: the allowance is spent and there are no credits.
        same_week = first.starts_at.isocalendar()[1] == second.starts_at.isocalendar()[1]
        if same_week:
            with pytest.raises(ValidationError):
                class_services.class_book(actor=sched_a.desk, occurrence=second, client=sched_a.bob)
            credit = _credits(sched_a, sched_a.bob, 1)
            class_services.class_book(actor=sched_a.desk, occurrence=second, client=sched_a.bob)
            credit.refresh_from_db()
            assert credit.remaining == 0


def test_a_plan_limited_to_class_types(sched_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(sched_a.gym):
        require_memberships()
        yoga = make_class(sched_a, in_hours=30)
        spin = make_class(sched_a, capacity=3, in_hours=31)
        plan = make_plan(sched_a.owner, class_type_ids=[yoga.class_type_id])
        services.membership_sell(
            actor=sched_a.desk, client=sched_a.bob, plan=plan, payment_kind="offline_cash"
        )
        class_services.class_book(actor=sched_a.desk, occurrence=yoga, client=sched_a.bob)
        with pytest.raises(ValidationError):
            class_services.class_book(actor=sched_a.desk, occurrence=spin, client=sched_a.bob)


def test_past_due_books_for_the_grace_days_then_not(sched_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(sched_a.gym):
        require_memberships()
        membership = services.membership_sell(
            actor=sched_a.desk,
            client=sched_a.bob,
            plan=make_plan(sched_a.owner),
            payment_kind="offline_cash",
        )
        membership = services.membership_mark_past_due(membership=membership)
        assert membership.status == MembershipStatus.PAST_DUE
        class_services.class_book(
            actor=sched_a.desk, occurrence=make_class(sched_a, in_hours=30), client=sched_a.bob
        )
        membership.past_due_since = timezone.now() - timedelta(days=8)
        membership.save()
        with pytest.raises(ValidationError):
            class_services.class_book(
                actor=sched_a.desk,
                occurrence=make_class(sched_a, capacity=3, in_hours=31),
                client=sched_a.bob,
            )


def test_managers_override_and_others_cannot(sched_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(sched_a.gym):
        require_memberships()
        occurrence = make_class(sched_a, capacity=5)
        with pytest.raises(PermissionDenied):
            class_services.class_book(
                actor=sched_a.desk,
                occurrence=occurrence,
                client=sched_a.bob,
                override_membership=True,
            )
        booking = class_services.class_book(
            actor=sched_a.manager,
            occurrence=occurrence,
            client=sched_a.bob,
            override_membership=True,
        )
        assert booking.status == ClassBookingStatus.BOOKED
        assert EntitlementUse.objects.get().overridden_by == sched_a.manager


def test_one_to_one_sessions_use_session_credits(sched_a: CrmGym) -> None:  # noqa: F811
    with tenant_context(sched_a.gym):
        require_memberships()
        start = (timezone.now() + timedelta(days=3)).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
        while start.weekday() >= 5:
            start += timedelta(days=1)
        window = {"starts_at": start, "ends_at": start + timedelta(hours=1)}
        with pytest.raises(ValidationError) as error:
            appointment_services.appointment_book(
                actor=sched_a.desk,
                trainer=sched_a.tina,
                client=sched_a.ann,
                override_availability=False,
                **window,
            )
        assert "membership" in error.value.message_dict
        credit = _credits(sched_a, sched_a.ann, 1, kind=CreditKind.SESSION)
        appointment = appointment_services.appointment_book(
            actor=sched_a.desk, trainer=sched_a.tina, client=sched_a.ann, **window
        )
        credit.refresh_from_db()
        assert credit.remaining == 0
        appointment_services.appointment_cancel(actor=sched_a.desk, appointment=appointment)
        credit.refresh_from_db()
        assert credit.remaining == 1


# --- 50 bookings racing for the last 5 credits ------------------------------------------------
# As tests/scheduling/test_classes.py's capacity race: committed rows in gym "charlie", every
# write in threads with their own connections, cleaned up afterwards (audit events stay).

RACERS = 50
LAST_CREDITS = 5


@pytest.mark.django_db
def test_50_bookings_racing_for_the_last_5_credits() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from apps.accounts.models import Role, User
    from apps.billing.models import BillingSettings, Pack, Payment
    from apps.crm.models import Client
    from apps.scheduling.models import ClassBooking, ClassOccurrence, ClassType
    from apps.tenants.models import Gym
    from tests.conftest import BROWSER, make_user
    from tests.scheduling.test_classes import _in_own_connection

    def set_up():  # type: ignore[no-untyped-def]
        gym = Gym.objects.get(subdomain=BROWSER.subdomain)
        with tenant_context(gym):
            desk = User.objects.filter(email="credit-desk@charlie.example").first() or make_user(
                Role.FRONT_DESK, "credit-desk@charlie.example"
            )
            settings_row = BillingSettings.objects.first() or BillingSettings()
            settings_row.memberships_required = True
            settings_row.save()
            class_type = ClassType.objects.create(name=f"Credit race {timezone.now().isoformat()}")
            start = timezone.now() + timedelta(days=2)
            occurrences = ClassOccurrence.objects.bulk_create(
                ClassOccurrence(
                    class_type=class_type,
                    starts_at=start + timedelta(minutes=i),
                    ends_at=start + timedelta(minutes=i + 45),
                    capacity=10,
                )
                for i in range(RACERS)
            )
            client = Client.objects.create(first_name="Credit", last_name="Racer")
            pack = Pack.objects.create(name="Race pack", credits=20, price=1, currency="EUR")
            credit = CreditGrant.objects.create(
                client=client, pack=pack, kind="class", granted=20, remaining=LAST_CREDITS
            )
        return gym, desk, class_type, occurrences, client, pack, credit

    gym, desk, class_type, occurrences, client, pack, credit = _in_own_connection(set_up)

    def book(occurrence) -> str:  # type: ignore[no-untyped-def]
        try:
            with tenant_context(gym):
                class_services.class_book(actor=desk, occurrence=occurrence, client=client)
                return "booked"
        except ValidationError as error:
            return "refused" if "membership" in error.message_dict else repr(error)
        finally:
            connection.close()

    def read():  # type: ignore[no-untyped-def]
        with tenant_context(gym):
            return (
                ClassBooking.objects.filter(client=client).count(),
                CreditGrant.objects.get(pk=credit.pk).remaining,
                EntitlementUse.objects.filter(client=client, returned_at__isnull=True).count(),
            )

    def clean_up() -> None:
        with tenant_context(gym):
            ClassBooking.objects.filter(client=client).delete()
            EntitlementUse.objects.filter(client=client).delete()
            ClassOccurrence.objects.filter(class_type=class_type).delete()
            class_type.delete()
            Payment.objects.filter(client=client).delete()
            CreditGrant.objects.filter(client=client).delete()
            pack.delete()
            client.delete()
            BillingSettings.objects.update(memberships_required=False)

    try:
        with ThreadPoolExecutor(max_workers=25) as pool:
            outcomes = list(pool.map(book, occurrences))
        assert outcomes.count("booked") == LAST_CREDITS
        assert outcomes.count("refused") == RACERS - LAST_CREDITS
        assert _in_own_connection(read) == (LAST_CREDITS, 0, LAST_CREDITS)
    finally:
        _in_own_connection(clean_up)


def test_cancelling_the_class_gives_credits_back(sched_a: CrmGym) -> None:  # noqa: F811
    from apps.scheduling.classes.timetable import occurrence_cancel

    with tenant_context(sched_a.gym):
        require_memberships()
        credit = _credits(sched_a, sched_a.bob, 1)
        occurrence = make_class(sched_a, in_hours=3)
        class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=sched_a.bob)
        credit.refresh_from_db()
        assert credit.remaining == 0
        occurrence_cancel(actor=sched_a.manager, occurrence=occurrence)
        credit.refresh_from_db()
        assert credit.remaining == 1


def test_the_calendar_books_without_a_membership_only_with_a_managers_override(
    sched_a: CrmGym,  # noqa: F811
) -> None:
    from apps.audit.models import AuditEvent
    from apps.scheduling.models import Appointment
    from tests.scheduling.test_calendar_pages import as_user

    url = "/schedule/calendar/appointments/new/"
    with tenant_context(sched_a.gym):
        require_memberships()
    data = {
        "trainer": sched_a.tina.pk,
        "client": sched_a.ann.pk,
        "day": "2026-07-07",
        "start": "10:00",
        "duration_minutes": 45,
    }
    owner = as_user(sched_a, "owner")
    assert 'name="override_membership"' in owner.get(url).content.decode()
    refused = owner.post(url, data)
    assert refused.status_code == 400
    assert "No valid membership or credits for this booking." in refused.content.decode()
    # A trainer has no such override, whatever the form sends.
    tina = as_user(sched_a, "tina")
    assert 'name="override_membership"' not in tina.get(url).content.decode()
    assert tina.post(url, {**data, "override_membership": "on"}).status_code == 400
    assert owner.post(url, {**data, "override_membership": "on"}).status_code == 302
    with tenant_context(sched_a.gym):
        appointment = Appointment.objects.get(client=sched_a.ann)
        use = EntitlementUse.objects.get(booking_ref=services.appointment_ref(appointment.pk))
        assert use.overridden_by == sched_a.owner
        assert (use.credit_id, use.membership_id) == (None, None)
        assert AuditEvent.objects.filter(action="entitlement.overridden").count() == 1
