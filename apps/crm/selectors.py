"""Reads with rules: every selector takes the viewer and returns only what that viewer may see.

- owner, manager: everything;
- front desk: every client's contact details, no health data, no notes;
- trainer: the clients currently assigned to them, with their notes (health notes included);
- client: themselves only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Count,
    Exists,
    F,
    Lookup,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.lookups import Contains
from django.utils.translation import gettext as _

from apps.accounts.models import Role, User
from apps.accounts.roles import has_role, is_management
from apps.core.sorting import sort_queryset
from apps.crm.models import (
    Assignment,
    Certification,
    Client,
    ClientStatus,
    Lead,
    Note,
    NoteKind,
    Trainer,
    client_search_text,
    phone_digits,
)
from apps.crm.phones import phone_search_digits
from apps.tenants.selectors import gym_today

CERTIFICATION_WARNING_DAYS = 30


def _current_assignments() -> QuerySet[Assignment]:
    return Assignment.objects.filter(ends_on__isnull=True).select_related("trainer__user")


class _ContainsIgnoringCase(Contains):
    """`lhs ILIKE '%term%'`, which a trigram (gin_trgm_ops) index on `lhs` answers: Django's
    icontains compares UPPER()s, which that index cannot."""

    def get_rhs_op(self, connection: Any, rhs: str) -> str:
        return f"ILIKE {rhs}"


class _AnyOf(Lookup):
    """`lhs = ANY(rhs)`, rhs an array."""

    lookup_name = "any_of"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


# A term this long has trigrams for the search indexes to look up.
TRIGRAM_LENGTH = 3


def client_search_q(search: str) -> Q:
    """Clients whose name, email or phone contains `search`. A number is matched on digits, in
    any way people type it: "07700 900123", "+44 7700 900123" and "900123" all find the client
    stored as +447700900123 (and numbers stored before they were normalised). Trigram indexes
    (apps.crm.models.client_search_text and phone_digits) answer terms of three characters or
    more."""
    condition = Q(_ContainsIgnoringCase(client_search_text(), search))
    for digits in phone_search_digits(search):
        condition |= Q(Contains(phone_digits(), digits))
    if len(search) < TRIGRAM_LENGTH:
        # No trigram to look up; so short a term matches so many clients that reading them in
        # the list's order finds a page at once.
        return condition
    # The matches as an array the query reads once: as a plain condition, PostgreSQL walks the
    # name index in the list's order testing every client, expecting matches spread evenly
    # through the alphabet ("smi" are all under S: thousands of rows tested for one page).
    matches = Client.objects.filter(condition).order_by().values("pk")
    return Q(_AnyOf(F("pk"), ArraySubquery(matches)))


# Clients who still come to the gym, so should have a trainer.
STILL_COMING = (ClientStatus.ACTIVE, ClientStatus.TRIAL, ClientStatus.PAUSED)


def has_current_trainer_q() -> Q:
    return Q(Exists(Assignment.objects.filter(client=OuterRef("pk"), ends_on__isnull=True)))


def without_trainer_q() -> Q:
    """Clients still coming (active, trial, paused) who have no trainer at the moment: the
    owner's "clients without a trainer", as counted and as filtered (`has_trainer=false`)."""
    # NOT IN rather than NOT EXISTS: in an aggregate's FILTER, PostgreSQL runs a correlated
    # EXISTS once per client, while it reads the open assignments into a hash once for NOT IN.
    coached = Assignment.objects.filter(ends_on__isnull=True).values("client_id")
    return Q(status__in=STILL_COMING) & ~Q(pk__in=coached)


def trainer_for_user(user: User) -> Trainer | None:
    return Trainer.objects.filter(user=user).first()


def client_list(
    *, viewer: User, search: str = "", prefetch_trainers: bool = True
) -> QuerySet[Client]:
    """The clients `viewer` may see, with their current trainers prefetched (as assignments
    with their trainers and users) unless `prefetch_trainers` is false: long lists read them
    with `current_trainer_rows` instead, much faster."""
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
        clients = clients.filter(client_search_q(search))
    if not prefetch_trainers:
        return clients
    return clients.prefetch_related(
        Prefetch("assignments", queryset=_current_assignments(), to_attr="current_assignments")
    )


def current_trainer_rows(*, client_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The current trainers of each of `client_ids` (id, name, is_primary, assignment), in one
    query of plain rows: no model instances for the assignments, trainers and users."""
    rows: dict[int, list[dict[str, Any]]] = {}
    assignments = (
        Assignment.objects.filter(client_id__in=list(client_ids), ends_on__isnull=True)
        .order_by(*Assignment._meta.ordering)
        .values_list(
            "client_id",
            "trainer_id",
            "trainer__user__first_name",
            "trainer__user__last_name",
            "trainer__user__email",
            "is_primary",
            "pk",
        )
    )
    for client_id, trainer_id, first, last, email, is_primary, pk in assignments:
        rows.setdefault(client_id, []).append(
            {
                # Trainer.name: the user's full name, else their email.
                "id": trainer_id,
                "name": f"{first} {last}".strip() or email,
                "is_primary": is_primary,
                "assignment": pk,
            }
        )
    return rows


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


def trainer_list_with_client_counts(*, viewer: User) -> QuerySet[Trainer]:
    """trainer_list with each trainer's current clients counted (`client_count`), in name
    order: counting groups the rows, and Django leaves Meta.ordering out of grouped queries."""
    return (
        trainer_list(viewer=viewer)
        .annotate(client_count=Count("assignments", filter=Q(assignments__ends_on__isnull=True)))
        .order_by(*Trainer._meta.ordering)
    )


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
    today: date = gym_today()
    certifications = Certification.objects.filter(
        expires_on__isnull=False,
        expires_on__lte=today + timedelta(days=within_days),
        trainer__is_active=True,
    ).select_related("trainer__user")
    if trainer is not None:
        certifications = certifications.filter(trainer=trainer)
    return certifications.order_by("expires_on")


# --- Health data on lists (API pages) ---------------------------------------------------------


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


# --- The staff dashboard ----------------------------------------------------------------------


def client_counts(*, viewer: User) -> dict[str, int]:
    """Management's overview in one query: active and trial clients, and the clients still
    coming (active, trial, paused) who have no trainer at the moment."""
    if not is_management(viewer):
        raise PermissionDenied(_("Only owners and managers see the gym's overview."))
    from django.db.models import Count

    return Client.objects.aggregate(
        active=Count("pk", filter=Q(status=ClientStatus.ACTIVE)),
        trial=Count("pk", filter=Q(status=ClientStatus.TRIAL)),
        without_trainer=Count("pk", filter=without_trainer_q()),
    )


def client_activity(*, viewer: User, client: Client, limit: int = 20) -> list[Any]:
    """The client's history, newest first: audit events of the client record, of its
    assignments and of the notes the viewer may read (none for front desk)."""
    from django.db.models import CharField
    from django.db.models.functions import Cast

    from apps.audit.models import AuditEvent

    if not client_list(viewer=viewer).filter(pk=client.pk).exists():
        return []
    # Audit events name their object by a text id; compare as text so it stays one query.
    assignment_ids = (
        Assignment.objects.filter(client=client)
        .annotate(id_text=Cast("pk", CharField()))
        .values("id_text")
    )
    note_ids = (
        note_list(viewer=viewer, client=client)
        .annotate(id_text=Cast("pk", CharField()))
        .values("id_text")
    )
    events = AuditEvent.objects.filter(
        Q(object_type="crm.client", object_id=str(client.pk))
        | Q(object_type="crm.assignment", object_id__in=assignment_ids)
        | Q(object_type="crm.note", object_id__in=note_ids)
    ).order_by("-created_at", "-id")
    return list(events[:limit])


# --- Import and export ------------------------------------------------------------------------

CLIENT_FILTER_PARAMS = (
    "search",
    "status",
    "trainer",
    "tag",
    "has_trainer",
    "joined_after",
    "joined_before",
    "ids",
)


def client_filter(queryset: QuerySet[Client], params: Any) -> QuerySet[Client]:
    """Narrow a client queryset (from `client_list`, which applied the viewer's rules) by the
    client list's filters: search, status, trainer (id), tag, has_trainer, joined_after,
    joined_before (inclusive, YYYY-MM-DD), ids (comma-separated, the rows picked on the
    list). Empty values are ignored; a bad value raises
    ValidationError naming the parameter. `params` is any mapping (a request's QueryDict)."""
    from django.core.exceptions import ValidationError

    from apps.crm.models import ClientStatus

    def value(name: str) -> str:
        raw = params.get(name) if params is not None else None
        return str(raw).strip() if raw is not None else ""

    errors: dict[str, list[str]] = {}
    ids = [part.strip() for part in value("ids").split(",") if part.strip()]
    if ids:
        if all(part.isdigit() for part in ids):
            queryset = queryset.filter(pk__in=[int(part) for part in ids])
        else:
            errors["ids"] = [_("Give client ids separated by commas.")]
    search = value("search")
    if search:
        queryset = queryset.filter(client_search_q(search))
    status = value("status")
    if status:
        if status in ClientStatus.values:
            queryset = queryset.filter(status=status)
        else:
            errors["status"] = [_("Unknown status.")]
    trainer = value("trainer")
    if trainer:
        if trainer.isdigit():
            queryset = queryset.filter(
                Exists(
                    Assignment.objects.filter(
                        client=OuterRef("pk"), trainer_id=int(trainer), ends_on__isnull=True
                    )
                )
            )
        else:
            errors["trainer"] = [_("Give the id of a trainer.")]
    has_trainer = value("has_trainer").lower()
    if has_trainer in ("true", "1"):
        queryset = queryset.filter(has_current_trainer_q())
    elif has_trainer in ("false", "0"):
        queryset = queryset.filter(without_trainer_q())
    elif has_trainer:
        errors["has_trainer"] = [_("Use true or false.")]
    tag = value("tag").lower()
    if tag:
        # Tags are stored lower-cased; `contains` on the array uses the GIN index.
        queryset = queryset.filter(tags__contains=[tag])
    bounds: dict[str, date] = {}
    for name in ("joined_after", "joined_before"):
        text = value(name)
        if not text:
            continue
        try:
            bounds[name] = date.fromisoformat(text)
        except ValueError:
            errors[name] = [_("Enter a date as YYYY-MM-DD.")]
    if "joined_after" in bounds:
        queryset = queryset.filter(joined_on__gte=bounds["joined_after"])
    if "joined_before" in bounds:
        queryset = queryset.filter(joined_on__lte=bounds["joined_before"])
    after, before = bounds.get("joined_after"), bounds.get("joined_before")
    if after and before and after > before:
        errors["joined_before"] = [_("The end of the range is before its start.")]
    if errors:
        raise ValidationError(errors)
    return queryset


# The columns the client and lead lists may be sorted by (`?sort=`; anything else keeps the
# default order): see apps.core.sorting.
CLIENT_SORTS = {
    "name": ("last_name", "first_name"),
    "status": ("status",),
    "email": ("email",),
    "joined": ("joined_on",),
}
LEAD_SORTS = {
    "name": ("first_name", "last_name"),
    "received": ("created_at",),
    "status": ("status",),
}


def client_sort(queryset: QuerySet[Client], sort: str) -> QuerySet[Client]:
    return sort_queryset(queryset, sort, CLIENT_SORTS)


def lead_sort(queryset: QuerySet[Lead], sort: str) -> QuerySet[Lead]:
    return sort_queryset(queryset, sort, LEAD_SORTS)


# --- The client portal ------------------------------------------------------------------------


def client_for_user(user: User) -> Client | None:
    """A portal user's own client record, with their current trainers prefetched; None for
    staff, or for a client login that has no record yet (apps.crm.services.profile_ensure_for_role
    makes one)."""
    if not has_role(user, Role.CLIENT):
        return None
    return client_list(viewer=user).first()


def consent_given(*, client: Client, kind: str) -> bool:
    """Whether the client's latest word on `kind` is yes (no word: no)."""
    latest = client.consents.filter(kind=kind).order_by("-recorded_at", "-pk").first()
    return bool(latest and latest.granted)
