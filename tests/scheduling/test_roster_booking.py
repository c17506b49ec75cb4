"""Staff book a client into a class from its roster (a search, then the client's name), through
class_book: a spot, or the waitlist when the class is full; a refusal is a form error naming
the reason (the membership when the client holds nothing valid), and only owners and managers
may book without a valid membership. From the roster staff also cancel a booking and mark a
no-show once the class started. Who may follow class_book's rules and the roster's own (a
trainer opens only their classes); gym A reaches nothing of gym B; the roster's queries do not
grow with its bookings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.billing.models import CreditKind, EntitlementUse
from apps.billing.services import pack_sell
from apps.crm import services as crm_services
from apps.scheduling.classes import services as class_services
from apps.scheduling.models import ClassBooking, ClassBookingStatus, ClassOccurrence, Strike
from tests.billing.factories import make_pack, require_memberships
from tests.conftest import GymClient
from tests.crm.conftest import CrmGym
from tests.scheduling.test_classes import make_class

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def as_user(crm: CrmGym, role: str) -> GymClient:
    browser = GymClient(crm.gym.subdomain)
    browser.force_login(crm.user(role))
    return browser


def roster_url(occurrence: ClassOccurrence) -> str:
    return f"/schedule/classes/{occurrence.pk}/"


def book_url(occurrence: ClassOccurrence) -> str:
    return f"/schedule/classes/{occurrence.pk}/book/"


def a_class(crm: CrmGym, *, capacity: int = 2, in_hours: float = 48) -> ClassOccurrence:
    with tenant_context(crm.gym):
        return make_class(crm, capacity=capacity, in_hours=in_hours)


def bookings(crm: CrmGym, occurrence: ClassOccurrence) -> list[tuple[str, str]]:
    with tenant_context(crm.gym):
        return sorted(
            occurrence.bookings.values_list("client__first_name", "status").order_by("pk")
        )


def booked_events(crm: CrmGym) -> int:
    with tenant_context(crm.gym):
        return AuditEvent.objects.filter(action="class_booking.created").count()


def give_credits(crm: CrmGym, client: object, n: int = 3) -> None:
    with tenant_context(crm.gym):
        pack = make_pack(crm.owner, credits=n, kind=CreditKind.CLASS, name=f"{n} classes")
        pack_sell(actor=crm.desk, client=client, pack=pack, payment_kind="offline_cash")


# --- Booking from the roster ----------------------------------------------------------------


class TestBook:
    def test_the_desk_finds_a_client_and_books_a_spot(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a)
        desk = as_user(sched_a, "desk")
        page = desk.get(roster_url(occurrence)).content.decode()
        assert 'data-testid="roster-book"' in page
        assert f'hx-get="/schedule/classes/{occurrence.pk}/book/clients/"' in page
        results = desk.get(f"{book_url(occurrence)}clients/", {"q": "bob bak"}, **HTMX)
        assert results.status_code == 200
        assert f'name="client" value="{sched_a.bob.pk}"' in results.content.decode()
        assert "Ann Able" not in results.content.decode()
        response = desk.post(book_url(occurrence), {"client": sched_a.bob.pk}, follow=True)
        assert response.redirect_chain[-1][0] == roster_url(occurrence)
        assert "Bob Baker is booked." in response.content.decode()
        assert bookings(sched_a, occurrence) == [("Bob", ClassBookingStatus.BOOKED)]
        assert booked_events(sched_a) == 1

    def test_the_search_works_without_htmx_and_leaves_out_who_is_already_in(
        self, sched_a: CrmGym
    ) -> None:
        occurrence = a_class(sched_a)
        with tenant_context(sched_a.gym):
            class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann)
        desk = as_user(sched_a, "desk")
        response = desk.get(f"{book_url(occurrence)}clients/", {"q": "a"})
        assert response.status_code == 302
        assert response["Location"].startswith(f"{roster_url(occurrence)}?q=a")
        page = desk.get(roster_url(occurrence), {"q": "a"}).content.decode()
        results = page.split('data-testid="roster-book-results"')[1]
        assert f'value="{sched_a.bob.pk}"' in results
        assert f'value="{sched_a.ann.pk}"' not in results
        none = desk.get(f"{book_url(occurrence)}clients/", {"q": "zzzz"}, **HTMX)
        assert 'data-testid="roster-book-none"' in none.content.decode()

    def test_a_full_class_puts_the_client_on_the_waitlist(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a, capacity=1)
        with tenant_context(sched_a.gym):
            class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann)
        response = as_user(sched_a, "desk").post(
            book_url(occurrence), {"client": sched_a.bob.pk}, follow=True
        )
        assert "Bob Baker is number 1 on the waitlist." in response.content.decode()
        assert bookings(sched_a, occurrence) == [
            ("Ann", ClassBookingStatus.BOOKED),
            ("Bob", ClassBookingStatus.WAITLISTED),
        ]
        waitlist = response.content.decode().split('data-testid="waitlist"')[1]
        assert "Bob Baker" in waitlist

    def test_the_class_rules_refuse_on_the_form(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a)
        with tenant_context(sched_a.gym):
            class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann)
        response = as_user(sched_a, "desk").post(book_url(occurrence), {"client": sched_a.ann.pk})
        assert response.status_code == 400
        assert "This client is already booked for this class." in response.content.decode()
        assert booked_events(sched_a) == 1

    def test_no_client_is_a_field_error(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a)
        desk = as_user(sched_a, "desk")
        for data in ({}, {"client": "x"}, {"client": 999999}):
            response = desk.post(book_url(occurrence), data)
            assert response.status_code == 400
        assert bookings(sched_a, occurrence) == []


class TestMembership:
    def test_nothing_valid_names_the_membership_and_writes_nothing(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a)
        with tenant_context(sched_a.gym):
            require_memberships()
        response = as_user(sched_a, "desk").post(book_url(occurrence), {"client": sched_a.bob.pk})
        assert response.status_code == 400
        body = response.content.decode()
        assert "No valid membership or credits for this booking." in body
        # The desk has no override to tick; the chosen client is offered again.
        assert 'name="override_membership"' not in body
        assert f'name="client" value="{sched_a.bob.pk}"' in body
        assert bookings(sched_a, occurrence) == []
        assert booked_events(sched_a) == 0
        with tenant_context(sched_a.gym):
            assert not EntitlementUse.objects.exists()

    def test_a_client_with_credits_uses_one(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a)
        with tenant_context(sched_a.gym):
            require_memberships()
        give_credits(sched_a, sched_a.bob, 2)
        as_user(sched_a, "desk").post(book_url(occurrence), {"client": sched_a.bob.pk})
        assert bookings(sched_a, occurrence) == [("Bob", ClassBookingStatus.BOOKED)]
        with tenant_context(sched_a.gym):
            use = EntitlementUse.objects.get()
            assert use.credit is not None
            assert use.credit.remaining == 1

    def test_a_manager_overrides_and_it_is_audited(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a)
        with tenant_context(sched_a.gym):
            require_memberships()
        manager = as_user(sched_a, "manager")
        refused = manager.post(book_url(occurrence), {"client": sched_a.bob.pk})
        assert refused.status_code == 400
        body = refused.content.decode()
        # The refusal sits beside the override the manager may tick.
        field = body.split('name="override_membership"')[1].split("</div>")[0]
        assert "No valid membership or credits for this booking." in field
        response = manager.post(
            book_url(occurrence), {"client": sched_a.bob.pk, "override_membership": "on"}
        )
        assert response.status_code == 302
        assert bookings(sched_a, occurrence) == [("Bob", ClassBookingStatus.BOOKED)]
        with tenant_context(sched_a.gym):
            use = EntitlementUse.objects.get()
            assert use.overridden_by == sched_a.manager
            assert use.credit is None
            assert use.membership is None
            assert AuditEvent.objects.filter(
                action="entitlement.overridden", actor=sched_a.manager
            ).exists()

    @pytest.mark.parametrize("role", ["desk", "tina"])
    def test_the_desk_and_trainers_cannot_override(self, sched_a: CrmGym, role: str) -> None:
        occurrence = a_class(sched_a)  # Tina's class; Ann is her client
        with tenant_context(sched_a.gym):
            require_memberships()
        response = as_user(sched_a, role).post(
            book_url(occurrence), {"client": sched_a.ann.pk, "override_membership": "on"}
        )
        assert response.status_code == 400
        assert "No valid membership or credits for this booking." in response.content.decode()
        assert bookings(sched_a, occurrence) == []
        with tenant_context(sched_a.gym):
            assert not EntitlementUse.objects.exists()


class TestWhoMay:
    def test_a_trainer_books_their_own_client_into_their_class(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a)
        response = as_user(sched_a, "tina").post(book_url(occurrence), {"client": sched_a.ann.pk})
        assert response.status_code == 302
        assert bookings(sched_a, occurrence) == [("Ann", ClassBookingStatus.BOOKED)]

    def test_a_trainer_cannot_book_a_client_who_is_not_theirs(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a)
        tina = as_user(sched_a, "tina")
        # Not offered by the search, and refused when posted anyway.
        results = tina.get(f"{book_url(occurrence)}clients/", {"q": "Cole"}, **HTMX)
        assert f'value="{sched_a.cara.pk}"' not in results.content.decode()
        response = tina.post(book_url(occurrence), {"client": sched_a.cara.pk})
        assert response.status_code == 400
        assert bookings(sched_a, occurrence) == []

    def test_a_trainer_cannot_book_into_another_trainers_class(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a)  # Tina's
        tom = as_user(sched_a, "tom")
        # Cara is Tom's client, Ann is not: neither goes into Tina's class through Tom.
        for client in (sched_a.cara, sched_a.ann):
            assert tom.post(book_url(occurrence), {"client": client.pk}).status_code == 404
        assert tom.get(f"{book_url(occurrence)}clients/", {"q": "a"}, **HTMX).status_code == 404
        assert bookings(sched_a, occurrence) == []

    def test_clients_cannot_use_the_roster(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a)
        response = as_user(sched_a, "cara").post(book_url(occurrence), {"client": sched_a.cara.pk})
        assert response.status_code in (302, 403, 404)
        assert bookings(sched_a, occurrence) == []

    def test_a_cancelled_class_offers_no_booking(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a)
        with tenant_context(sched_a.gym):
            ClassOccurrence.objects.filter(pk=occurrence.pk).update(is_cancelled=True)
        desk = as_user(sched_a, "desk")
        assert 'data-testid="roster-book"' not in desk.get(roster_url(occurrence)).content.decode()
        response = desk.post(book_url(occurrence), {"client": sched_a.bob.pk})
        assert response.status_code == 400
        assert "This class is cancelled." in response.content.decode()
        assert bookings(sched_a, occurrence) == []


# --- Cancel and no-show from the roster -------------------------------------------------------


class TestCancelAndNoShow:
    def test_cancelling_a_spot_promotes_the_waitlist(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a, capacity=1)
        with tenant_context(sched_a.gym):
            first = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann
            )
            class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=sched_a.bob)
        desk = as_user(sched_a, "desk")
        url = f"/schedule/classes/bookings/{first.pk}/cancel/"
        assert f'action="{url}"' in desk.get(roster_url(occurrence)).content.decode()
        response = desk.post(url, follow=True)
        assert "Ann Able&#x27;s booking is cancelled." in response.content.decode()
        assert bookings(sched_a, occurrence) == [
            ("Ann", ClassBookingStatus.CANCELLED),
            ("Bob", ClassBookingStatus.BOOKED),
        ]

    def test_the_desk_takes_a_client_off_the_waitlist(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a, capacity=1)
        with tenant_context(sched_a.gym):
            class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann)
            waiting = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.bob
            )
        as_user(sched_a, "desk").post(f"/schedule/classes/bookings/{waiting.pk}/cancel/")
        assert ("Bob", ClassBookingStatus.CANCELLED) in bookings(sched_a, occurrence)

    def test_inside_the_window_it_is_late_unless_waived(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a, in_hours=3)  # the late-cancel window is 12 hours
        with tenant_context(sched_a.gym):
            ann = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann
            )
            bob = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.bob
            )
        desk = as_user(sched_a, "desk")
        page = desk.get(roster_url(occurrence)).content.decode()
        assert "Cancel late" in page
        assert 'data-testid="cancel-waive"' in page
        desk.post(f"/schedule/classes/bookings/{ann.pk}/cancel/")
        desk.post(f"/schedule/classes/bookings/{bob.pk}/cancel/", {"waive_late": "1"})
        assert bookings(sched_a, occurrence) == [
            ("Ann", ClassBookingStatus.LATE_CANCELLED),
            ("Bob", ClassBookingStatus.CANCELLED),
        ]

    def test_a_no_show_once_the_class_started_records_a_strike(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a)
        with tenant_context(sched_a.gym):
            booking = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann
            )
        desk = as_user(sched_a, "desk")
        url = f"/schedule/classes/bookings/{booking.pk}/no-show/"
        # Not offered, and refused, before the class starts.
        assert url not in desk.get(roster_url(occurrence)).content.decode()
        early = desk.post(url, **HTMX)
        assert "The class has not started yet." in early.content.decode()
        with tenant_context(sched_a.gym):
            started = timezone.now() - timedelta(minutes=10)
            ClassOccurrence.objects.filter(pk=occurrence.pk).update(
                starts_at=started, ends_at=started + timedelta(hours=1)
            )
        page = desk.get(roster_url(occurrence)).content.decode()
        assert f'hx-post="{url}"' in page
        # The class started: no more cancelling from the roster.
        assert f"/schedule/classes/bookings/{booking.pk}/cancel/" not in page
        row = desk.post(url, **HTMX).content.decode()
        assert row.startswith(f'<li id="roster-booking-{booking.pk}"')
        assert 'data-testid="no-show"' in row
        with tenant_context(sched_a.gym):
            booking.refresh_from_db()
            assert booking.status == ClassBookingStatus.NO_SHOW
            assert Strike.objects.filter(client=sched_a.ann).count() == 1

    def test_a_trainer_cannot_touch_another_trainers_bookings(self, sched_a: CrmGym) -> None:
        occurrence = a_class(sched_a)  # Tina's
        with tenant_context(sched_a.gym):
            booking = class_services.class_book(
                actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann
            )
        tom = as_user(sched_a, "tom")
        for action in ("cancel", "no-show"):
            response = tom.post(f"/schedule/classes/bookings/{booking.pk}/{action}/")
            assert response.status_code == 404
        assert bookings(sched_a, occurrence) == [("Ann", ClassBookingStatus.BOOKED)]


# --- Gym isolation and query counts --------------------------------------------------------------


class TestIsolation:
    def test_gym_a_cannot_book_gym_b_clients_or_open_its_classes(
        self, sched_a: CrmGym, crm_b: CrmGym
    ) -> None:
        with tenant_context(crm_b.gym):
            # Enough rows that gym B's ids are not also gym A's.
            b_clients = [
                crm_services.client_create(
                    actor=crm_b.owner, first_name=f"Bravo{n}", last_name="Member"
                )
                for n in range(6)
            ]
            b_client = b_clients[-1]
            b_classes = [make_class(crm_b, in_hours=30 + n) for n in range(6)]
            b_class = b_classes[-1]
        a_occurrence = a_class(sched_a)
        with tenant_context(sched_a.gym):
            assert not ClassOccurrence.objects.filter(pk=b_class.pk).exists()
            from apps.crm.models import Client

            assert not Client.objects.filter(pk=b_client.pk).exists()
        desk_a = as_user(sched_a, "desk")
        assert desk_a.get(roster_url(b_class)).status_code == 404
        assert desk_a.post(book_url(b_class), {"client": sched_a.bob.pk}).status_code == 404
        response = desk_a.post(book_url(a_occurrence), {"client": b_client.pk})
        assert response.status_code == 400
        assert "Choose a client from the search." in response.content.decode()
        results = desk_a.get(f"{book_url(a_occurrence)}clients/", {"q": "Bravo"}, **HTMX)
        assert "Bravo" not in results.content.decode()
        assert bookings(sched_a, a_occurrence) == []
        with tenant_context(crm_b.gym):
            assert not ClassBooking.objects.exists()


class TestQueryCounts:
    def count(self, browser: GymClient, url: str, params: dict | None = None) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert browser.get(url, params or {}).status_code == 200
        return len(queries)

    def test_the_roster_does_not_grow_with_bookings_waitlist_or_results(
        self, sched_a: CrmGym
    ) -> None:
        occurrence = a_class(sched_a, capacity=3)
        with tenant_context(sched_a.gym):
            class_services.class_book(actor=sched_a.desk, occurrence=occurrence, client=sched_a.ann)
        manager = as_user(sched_a, "manager")
        url = roster_url(occurrence)
        params = {"q": "Member"}
        self.count(manager, url, params)
        few = self.count(manager, url, params)
        with tenant_context(sched_a.gym):
            for n in range(12):
                client = crm_services.client_create(
                    actor=sched_a.owner, first_name=f"Extra{n}", last_name="Member"
                )
                if n < 8:  # three spots, then the waitlist
                    class_services.class_book(
                        actor=sched_a.desk, occurrence=occurrence, client=client
                    )
        many = self.count(manager, url, params)
        assert many == few
        assert 'data-testid="roster-book-client"' in manager.get(url, params).content.decode()
