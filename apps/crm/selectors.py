"""Reads with rules: every selector takes the viewer and returns only what that viewer may see.

- owner, manager: everything;
- front desk: every client's contact details, no health data, no notes;
- trainer: the clients currently assigned to them, with their notes (health notes included);
- client: themselves only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.crm.models import Assignment, Certification, Client, Lead, Note, NoteKind, Trainer

CERTIFICATION_WARNING_DAYS = 30


def _current_assignments() -> QuerySet[Assignment]:
    return Assignment.objects.filter(ends_on__isnull=True).select_related("trainer__user")


def trainer_for_user(user: User) -> Trainer | None:
    return Trainer.objects.filter(user=user).first()


def client_list(*, viewer: User, search: str = "") -> QuerySet[Client]:
    """The clients `viewer` may see, with their current trainers prefetched."""
    if has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        clients = Client.objects.all()
    elif has_role(viewer, Role.TRAINER):
        clients = Client.objects.filter(
            Exists(
                Assignment.objects.filter(
                    client=OuterRef("pk"), trainer__user=viewer, ends_on__isnull=True
                )
            )
        )
    elif has_role(viewer, Role.CLIENT):
        clients = Client.objects.filter(user=viewer)
    else:
        return Client.objects.none()
    if search:
        clients = clients.filter(
            Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(email__icontains=search)
            | Q(phone__icontains=search)
        )
    return clients.prefetch_related(
        Prefetch("assignments", queryset=_current_assignments(), to_attr="current_assignments")
    )


def client_get(*, viewer: User, pk: int) -> Client:
    """One client the viewer may see, or Client.DoesNotExist (a 404: never reveal it exists)."""
    return client_list(viewer=viewer).get(pk=pk)


def can_see_health_data(*, viewer: User, client: Client) -> bool:
    """Managers and owners, and the client's current trainers (and the client themselves)."""
    if is_management(viewer):
        return True
    if has_role(viewer, Role.TRAINER):
        return Assignment.objects.filter(
            client=client, trainer__user=viewer, ends_on__isnull=True
        ).exists()
    return has_role(viewer, Role.CLIENT) and client.user_id == viewer.pk


def can_edit_client(*, viewer: User, client: Client) -> bool:
    if has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        return True
    return has_role(viewer, Role.TRAINER) and can_see_health_data(viewer=viewer, client=client)


def note_list(*, viewer: User, client: Client | None = None) -> QuerySet[Note]:
    """Notes the viewer may read: none for front desk and clients; trainers see the notes of
    their current clients; health notes never reach anyone else."""
    if is_management(viewer):
        notes = Note.objects.all()
    elif has_role(viewer, Role.TRAINER):
        notes = Note.objects.filter(
            Exists(
                Assignment.objects.filter(
                    client=OuterRef("client"), trainer__user=viewer, ends_on__isnull=True
                )
            )
        )
    else:
        return Note.objects.none()
    if client is not None:
        notes = notes.filter(client=client)
    return notes.select_related("author", "client")


def note_kinds_for(*, viewer: User) -> list[str]:
    if is_management(viewer) or has_role(viewer, Role.TRAINER):
        return [kind.value for kind in NoteKind]
    return []


def trainer_list(*, viewer: User) -> QuerySet[Trainer]:
    """Staff see every trainer; a client sees the trainers currently coaching them."""
    trainers = Trainer.objects.select_related("user").prefetch_related("certifications")
    if has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK, Role.TRAINER):
        return trainers
    if has_role(viewer, Role.CLIENT):
        return trainers.filter(
            assignments__client__user=viewer, assignments__ends_on__isnull=True
        ).distinct()
    return trainers.none()


def assignment_list(*, viewer: User) -> QuerySet[Assignment]:
    assignments = Assignment.objects.select_related("client", "trainer__user")
    if has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        return assignments
    if has_role(viewer, Role.TRAINER):
        return assignments.filter(trainer__user=viewer)
    if has_role(viewer, Role.CLIENT):
        return assignments.filter(client__user=viewer)
    return assignments.none()


def lead_list(*, viewer: User) -> QuerySet[Lead]:
    if not has_role(viewer, Role.OWNER, Role.MANAGER, Role.FRONT_DESK):
        raise PermissionDenied(_("Only managers and front desk handle leads."))
    return Lead.objects.select_related("client")


def certifications_expiring(
    *, within_days: int = CERTIFICATION_WARNING_DAYS, trainer: Trainer | None = None
) -> QuerySet[Certification]:
    """Certifications expiring in the next `within_days` days (or already expired)."""
    today: date = timezone.localdate()
    certifications = Certification.objects.filter(
        expires_on__isnull=False,
        expires_on__lte=today + timedelta(days=within_days),
        trainer__is_active=True,
    ).select_related("trainer__user")
    if trainer is not None:
        certifications = certifications.filter(trainer=trainer)
    return certifications.order_by("expires_on")


# --- Appended for the API (issue 4, point 3) -------------------------------------------------


def health_data_visible_ids(*, viewer: User, client_ids: Iterable[int]) -> set[int]:
    """The ids among `client_ids` whose health data `viewer` may see: `can_see_health_data` for
    a whole page of clients in at most one query, so lists stay at a constant query count."""
    ids = set(client_ids)
    if not ids:
        return set()
    if is_management(viewer):
        return ids
    if has_role(viewer, Role.TRAINER):
        return set(
            Assignment.objects.filter(
                client_id__in=ids, trainer__user=viewer, ends_on__isnull=True
            ).values_list("client_id", flat=True)
        )
    if has_role(viewer, Role.CLIENT):
        return set(Client.objects.filter(pk__in=ids, user=viewer).values_list("pk", flat=True))
    return set()
