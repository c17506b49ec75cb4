"""Reads of the staff home page ("Today"): the day's classes and sessions, who is due next, the
lead inbox, and a new gym's set-up checklist. Each takes the viewer and shows only what that
viewer may see; each runs a fixed number of queries, whatever the size of the gym."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import STAFF_ROLES, Invitation, Role, User
from apps.accounts.roles import has_role, is_management
from apps.billing.stripe_gateway import is_direct_mode
from apps.connect.selectors import connected_account_for_gym
from apps.crm import selectors as crm_selectors
from apps.crm.models import Client, Lead, LeadStatus, Trainer
from apps.scheduling.checkin.selectors import checkin_appointments
from apps.scheduling.classes.services import CHECK_IN_OPENS
from apps.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClassBooking,
    ClassBookingStatus,
    ClassOccurrence,
    ClassSeries,
    Room,
)
from apps.tenants.models import DEFAULT_BRAND_COLOUR, Gym, OpeningHours
from apps.tenants.selectors import current_gym, gym_zone

CLASSES_SHOWN = 30
SESSIONS_SHOWN = 30
LEADS_SHOWN = 5
# A client is still "due" a little after their start time: late arrivals are checked in too.
DUE_GRACE = timedelta(minutes=15)
# Leads marked contacted this long ago without an outcome need a follow-up.
FOLLOW_UP_AFTER = timedelta(days=2)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The gym's local day as UTC instants [start, end)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=gym_zone())
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def _occurrences_for(viewer: User) -> QuerySet[ClassOccurrence]:
    occurrences = ClassOccurrence.objects.select_related(
        "class_type", "trainer__user", "room"
    ).filter(is_cancelled=False)
    if has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        return occurrences
    if has_role(viewer, Role.TRAINER):
        return occurrences.filter(trainer__user=viewer)
    return occurrences.none()


def today_classes(*, viewer: User, day: date) -> list[ClassOccurrence]:
    """The day's classes the viewer may see (a trainer: their own), each with `booked`,
    `checked_in` and `waitlisted` counts, in order of start."""
    start, end = day_bounds(day)
    return list(
        _occurrences_for(viewer)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .annotate(
            booked=Count(
                "bookings",
                filter=Q(
                    bookings__status__in=(
                        ClassBookingStatus.BOOKED,
                        ClassBookingStatus.ATTENDED,
                        ClassBookingStatus.NO_SHOW,
                    )
                ),
            ),
            checked_in=Count("bookings", filter=Q(bookings__status=ClassBookingStatus.ATTENDED)),
            waitlisted=Count("bookings", filter=Q(bookings__status=ClassBookingStatus.WAITLISTED)),
        )
        .order_by("starts_at", "pk")[:CLASSES_SHOWN]
    )


def today_sessions(*, viewer: User, day: date, now: datetime | None = None) -> list[Appointment]:
    """The day's 1:1 sessions the viewer may check in (a trainer: their own), in order, each
    with `check_in_open`: whether check-in has opened for it."""
    now = now or timezone.now()
    sessions = list(checkin_appointments(viewer=viewer, day=day)[:SESSIONS_SHOWN])
    for session in sessions:
        session.check_in_open = session.starts_at - CHECK_IN_OPENS <= now  # type: ignore[attr-defined]
    return sessions


@dataclass(frozen=True)
class DueClient:
    """The next client expected at the door: a class booking or a 1:1 session not checked in."""

    client: Client
    starts_at: datetime
    what: str
    check_in_open: bool
    booking: ClassBooking | None = None
    appointment: Appointment | None = None


def next_due(*, viewer: User, now: datetime | None = None) -> DueClient | None:
    """The earliest booked class place or session starting from a moment ago to the end of the
    gym's day that is not checked in yet, among what the viewer may check in."""
    now = now or timezone.now()
    end = day_bounds(timezone.localtime(now, gym_zone()).date())[1]
    since = now - DUE_GRACE
    if not has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK, Role.TRAINER):
        return None
    bookings = ClassBooking.objects.select_related(
        "client", "occurrence__class_type", "occurrence__trainer__user"
    ).filter(
        status=ClassBookingStatus.BOOKED,
        occurrence__is_cancelled=False,
        occurrence__starts_at__gte=since,
        occurrence__starts_at__lt=end,
    )
    if has_role(viewer, Role.TRAINER):
        bookings = bookings.filter(occurrence__trainer__user=viewer)
    booking = bookings.order_by("occurrence__starts_at", "client__last_name", "pk").first()
    appointment = (
        checkin_appointments(viewer=viewer)
        .filter(
            status=AppointmentStatus.BOOKED,
            checked_in_at__isnull=True,
            starts_at__gte=since,
            starts_at__lt=end,
        )
        .first()
    )
    if appointment is not None and (
        booking is None or appointment.starts_at < booking.occurrence.starts_at
    ):
        return DueClient(
            client=appointment.client,
            starts_at=appointment.starts_at,
            what=str(_("Session with %(trainer)s") % {"trainer": appointment.trainer}),
            check_in_open=appointment.starts_at - CHECK_IN_OPENS <= now,
            appointment=appointment,
        )
    if booking is not None:
        return DueClient(
            client=booking.client,
            starts_at=booking.occurrence.starts_at,
            what=booking.occurrence.class_type.name,
            check_in_open=booking.occurrence.starts_at - CHECK_IN_OPENS <= now,
            booking=booking,
        )
    return None


def _may_handle_leads(viewer: User) -> bool:
    return has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK)


def new_leads(*, viewer: User) -> tuple[list[Lead], int]:
    """The newest leads nobody has answered yet, and how many there are in all."""
    if not _may_handle_leads(viewer):
        return [], 0
    leads = crm_selectors.lead_list(viewer=viewer).filter(status=LeadStatus.NEW)
    return list(leads.order_by("-created_at", "-pk")[:LEADS_SHOWN]), leads.count()


def follow_ups(*, viewer: User, now: datetime | None = None) -> list[Lead]:
    """Leads contacted a while ago that are neither converted nor lost: the oldest first."""
    if not _may_handle_leads(viewer):
        return []
    cutoff = (now or timezone.now()) - FOLLOW_UP_AFTER
    return list(
        crm_selectors.lead_list(viewer=viewer)
        .filter(status=LeadStatus.CONTACTED, created_at__lt=cutoff)
        .order_by("created_at", "pk")[:LEADS_SHOWN]
    )


def lead_for_action(*, viewer: User, pk: int) -> Lead:
    """A lead the viewer may act on from Today (raises Lead.DoesNotExist otherwise)."""
    if not _may_handle_leads(viewer):
        raise Lead.DoesNotExist
    return crm_selectors.lead_list(viewer=viewer).get(pk=pk)


# --- Set-up checklist ------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupStep:
    key: str
    label: str | Promise
    help: str | Promise
    done: bool
    url: str


@dataclass(frozen=True)
class SetupChecklist:
    steps: list[SetupStep]

    @property
    def done_count(self) -> int:
        return sum(step.done for step in self.steps)

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def percent(self) -> int:
        return round(100 * self.done_count / self.total) if self.total else 100

    @property
    def complete(self) -> bool:
        return self.done_count == self.total


def _first_url(*names: str) -> str:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return ""


def _branded(gym: Gym) -> bool:
    """Whether the gym has made the app its own: a logo, or a brand colour of its own."""
    return bool(gym.logo_name) or gym.brand_colour != DEFAULT_BRAND_COLOUR


def setup_checklist(*, viewer: User) -> SetupChecklist | None:
    """What a new gym still has to set up, each step judged from its data and linking to where
    it is done; None for a viewer who cannot set the gym up."""
    if not is_management(viewer):
        return None
    gym = current_gym()
    settings_url = _first_url("gym_settings:index")
    steps = [
        SetupStep(
            "hours",
            _("Opening hours"),
            _("When the doors are open: bookings and the kiosk follow them."),
            OpeningHours.objects.filter(gym=gym).exists(),
            _first_url("gym_settings:hours") or settings_url,
        ),
        SetupStep(
            "rooms",
            _("Rooms"),
            _("Where classes and sessions happen, and how many fit."),
            Room.objects.exists(),
            _first_url("gym_settings:location_list") or settings_url,
        ),
        SetupStep(
            "trainers",
            _("Trainers"),
            _("The people who coach: they get a calendar and their clients."),
            Trainer.objects.filter(is_active=True).exists(),
            _first_url("crm:trainer_create", "crm:trainer_list"),
        ),
        SetupStep(
            "timetable",
            _("Class timetable"),
            _("Your weekly classes, so clients can book them."),
            ClassSeries.objects.exists(),
            _first_url("scheduling:class_list", "scheduling:calendar"),
        ),
        SetupStep(
            "clients",
            _("Import clients"),
            _("Bring your members over from a spreadsheet."),
            Client.objects.exists(),
            _first_url("imports:upload", "crm:client_create"),
        ),
        SetupStep(
            "team",
            _("Invite the team"),
            _("Managers, trainers and front desk get their own sign-in."),
            Invitation.objects.exists()
            or User.objects.filter(role__in=STAFF_ROLES).exclude(pk=viewer.pk).exists(),
            _first_url("accounts:invitations"),
        ),
        SetupStep(
            "branding",
            _("Branding"),
            _("Your logo and colour on the app, the portal and emails."),
            _branded(gym),
            _first_url("gym_settings:identity", "gym_settings:profile") or settings_url,
        ),
    ]
    # Stripe is the owner's to connect; a manager is pointed at the price list instead.
    payments_url = _first_url("connect:settings") if has_role(viewer, Role.OWNER) else ""
    if payments_url or _first_url("billing:catalogue"):
        steps.append(
            SetupStep(
                "payments",
                _("Payments"),
                _("Connect Stripe so clients pay for memberships and packs online."),
                _payments_ready(gym),
                payments_url or _first_url("billing:catalogue"),
            )
        )
    return SetupChecklist(steps=steps)


def _payments_ready(gym: Any) -> bool:
    """Whether the gym can take payments: its Stripe account is connected, or the platform
    takes payments directly for every gym."""
    return is_direct_mode() or connected_account_for_gym(gym=gym) is not None
