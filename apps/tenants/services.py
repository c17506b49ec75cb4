"""Creating gyms. Every way in (sign-up page, API, management command) goes through gym_create."""

from __future__ import annotations

import logging
import secrets
import zoneinfo
from datetime import date as dt_date
from datetime import time
from itertools import pairwise
from typing import IO

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context, schema_exists

from apps.accounts.models import Role, User
from apps.audit.services import audit_record, changes_between
from apps.tenants.models import Domain, Gym, OpeningHours, SpareSchema, SpecialDay
from apps.tenants.selectors import subdomain_is_taken
from apps.tenants.validators import validate_subdomain

logger = logging.getLogger(__name__)


def schema_name_for(subdomain: str) -> str:
    # Hyphens are legal in a DNS label but awkward in SQL; underscores never occur in a
    # subdomain, so the mapping cannot collide.
    return subdomain.replace("-", "_")


def gym_validate(
    *, name: str, subdomain: str, owner_email: str, owner_password: str | None
) -> None:
    """Raise one ValidationError naming every bad field, before anything is written."""
    errors: dict[str, list[str]] = {}

    def add(field: str, exc: ValidationError) -> None:
        errors.setdefault(field, []).extend(exc.messages)

    if not name.strip():
        errors["name"] = [_("Give your gym a name.")]
    elif len(name) > Gym._meta.get_field("name").max_length:
        errors["name"] = [_("The name is too long.")]
    try:
        validate_subdomain(subdomain)
    except ValidationError as exc:
        add("subdomain", exc)
    else:
        if subdomain_is_taken(subdomain=subdomain) or schema_exists(schema_name_for(subdomain)):
            errors["subdomain"] = [_("This subdomain is already taken.")]
    try:
        validate_email(owner_email)
    except ValidationError as exc:
        add("owner_email", exc)
    if owner_password is not None:
        try:
            validate_password(owner_password, user=User(email=owner_email))
        except ValidationError as exc:
            add("owner_password", exc)
    if errors:
        raise ValidationError(errors)


def gym_create(
    *,
    name: str,
    subdomain: str,
    owner_email: str,
    owner_password: str | None = None,
    time_zone: str = "UTC",
) -> Gym:
    """Create a gym: its schema (cloned from the template), its domain and its owner.

    All or nothing: PostgreSQL DDL is transactional, so a failure at any step rolls back the
    schema, the domain and the owner together.
    """
    subdomain = subdomain.strip()
    owner_email = owner_email.strip().lower()
    gym_validate(
        name=name, subdomain=subdomain, owner_email=owner_email, owner_password=owner_password
    )
    schema_name = schema_name_for(subdomain)
    try:
        with transaction.atomic():
            gym = Gym(
                schema_name=schema_name, name=name.strip(), subdomain=subdomain, time_zone=time_zone
            )
            gym.save(verbosity=0)
            Domain.objects.create(domain=gym.host, tenant=gym, is_primary=True)
            with schema_context(schema_name):
                owner = User.objects.create_user(
                    email=owner_email,
                    password=owner_password,
                    role=Role.OWNER,
                    is_staff=True,
                    is_superuser=True,
                )
                EmailAddress.objects.create(
                    user=owner, email=owner_email, primary=True, verified=True
                )
                # The gym's own log starts with its creation, by its owner.
                audit_record(
                    action="gym.created",
                    actor=owner,
                    obj=gym,
                    changes={
                        "name": {"before": None, "after": gym.name},
                        "subdomain": {"before": None, "after": subdomain},
                    },
                )
    except Exception:
        # The rollback already removed the schema; this only guards against a schema created
        # outside the transaction by a future change of django-tenants.
        connection.set_schema_to_public()
        if not transaction.get_connection().in_atomic_block and schema_exists(schema_name):
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')
        raise
    logger.info("gym created", extra={"gym": schema_name})
    return gym


# --- Spare schemas ----------------------------------------------------------------------------
# Cloning the template runs about a thousand DDL statements (most of a sign-up's time). A few
# schemas cloned ahead of time by a background task make sign-up a single ALTER SCHEMA ... RENAME;
# when the pool is empty, sign-up clones as before.

SPARE_PREFIX = "gym_spare_"


def template_version() -> str:
    """A fingerprint of the migrations applied to the template schema."""
    table = f'"{settings.TENANT_BASE_SCHEMA}".django_migrations'  # a setting, not input
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5(coalesce(string_agg(app || '.' || name, ',' ORDER BY app, name), '')) "
            "FROM " + table
        )
        return cursor.fetchone()[0]


def _drop_spare(spare: SpareSchema) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{spare.name}" CASCADE')
    spare.delete()


def spare_schema_create() -> SpareSchema:
    from apps.tenants.cloning import clone_schema_fast

    name = f"{SPARE_PREFIX}{secrets.token_hex(6)}"
    with transaction.atomic():
        connection.set_schema_to_public()
        clone_schema_fast(source=settings.TENANT_BASE_SCHEMA, destination=name)
        return SpareSchema.objects.create(name=name, template_version=template_version())


def spare_schemas_refill(*, target: int | None = None) -> int:
    """Drop spares cloned from an older template, then clone until `target` are ready.
    Returns how many were created."""
    target = settings.TENANT_SPARE_SCHEMAS if target is None else target
    connection.set_schema_to_public()
    if not schema_exists(settings.TENANT_BASE_SCHEMA):
        return 0
    current = template_version()
    for stale in SpareSchema.objects.exclude(template_version=current):
        with transaction.atomic():
            _drop_spare(stale)
    created = 0
    while SpareSchema.objects.filter(template_version=current).count() < target:
        spare_schema_create()
        created += 1
    return created


def spare_schema_take(*, destination: str) -> bool:
    """Rename a ready spare to `destination`; False when none is ready (or it is stale)."""
    with transaction.atomic():
        spare = (
            SpareSchema.objects.select_for_update(skip_locked=True)
            .filter(template_version=template_version())
            .order_by("created_at", "pk")
            .first()
        )
        if spare is None:
            return False
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER SCHEMA "{spare.name}" RENAME TO "{destination}"')
        spare.delete()
    return True


# --- Gym settings: profile and opening hours --------------------------------------------------
# Owners and managers only. The rows live in the public schema, keyed by gym; the audit events
# go to the gym's own log (the current schema).


def _require_management(actor: User) -> None:
    from apps.accounts.roles import is_management

    if not is_management(actor):
        raise PermissionDenied(_("Only owners and managers change the gym's settings."))


def _time_text(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


@transaction.atomic
def gym_profile_update(*, actor: User, gym: Gym, name: str, time_zone: str) -> Gym:
    """Rename the gym or move it to another time zone (an IANA name)."""
    _require_management(actor)
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give your gym a name.")]
    elif len(name) > Gym._meta.get_field("name").max_length:
        errors["name"] = [_("The name is too long.")]
    if time_zone not in zoneinfo.available_timezones():
        errors["time_zone"] = [_("Choose a time zone from the list.")]
    if errors:
        raise ValidationError(errors)
    gym = Gym.objects.select_for_update().get(pk=gym.pk)
    before = {"name": gym.name, "time_zone": gym.time_zone}
    gym.name, gym.time_zone = name, time_zone
    gym.save(update_fields=["name", "time_zone"])
    changes = changes_between(before, {"name": gym.name, "time_zone": gym.time_zone})
    if changes:
        audit_record(action="gym.updated", actor=actor, obj=gym, changes=changes)
    # The request's tenant is a separate instance: keep it current for the rest of the request.
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Gym) and tenant.pk == gym.pk:
        tenant.name, tenant.time_zone = gym.name, gym.time_zone
    return gym


def _check_range(opens_at: time | None, closes_at: time | None) -> None:
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise ValidationError({"closes_at": [_("Closing time must be after opening time.")]})


@transaction.atomic
def opening_hours_add(
    *,
    actor: User,
    gym: Gym,
    weekday: int,
    opens_at: time,
    closes_at: time,
) -> OpeningHours:
    """Add a range to a weekday; it may touch the day's other ranges but not overlap them."""
    _require_management(actor)
    if weekday not in range(7):
        raise ValidationError({"weekday": [_("Choose a day of the week.")]})
    _check_range(opens_at, closes_at)
    # Lock the gym row so two managers adding hours at once are checked one after the other;
    # the exclusion constraint still refuses whatever slips past.
    Gym.objects.select_for_update().get(pk=gym.pk)
    overlapping = OpeningHours.objects.filter(
        gym=gym, weekday=weekday, opens_at__lt=closes_at, closes_at__gt=opens_at
    )
    if overlapping.exists():
        raise ValidationError({"opens_at": [_("These hours overlap hours of the same day.")]})
    try:
        with transaction.atomic():
            hours = OpeningHours.objects.create(
                gym=gym, weekday=weekday, opens_at=opens_at, closes_at=closes_at
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"opens_at": [_("These hours overlap hours of the same day.")]}
        ) from exc
    audit_record(
        action="opening_hours.created",
        actor=actor,
        obj=hours,
        changes=changes_between(
            {},
            {
                "weekday": weekday,
                "opens_at": _time_text(opens_at),
                "closes_at": _time_text(closes_at),
            },
        ),
    )
    return hours


@transaction.atomic
def opening_hours_delete(*, actor: User, hours: OpeningHours) -> None:
    _require_management(actor)
    audit_record(
        action="opening_hours.deleted",
        actor=actor,
        obj=hours,
        changes=changes_between(
            {
                "weekday": hours.weekday,
                "opens_at": _time_text(hours.opens_at),
                "closes_at": _time_text(hours.closes_at),
            },
            {},
        ),
    )
    hours.delete()


@transaction.atomic
def special_day_save(
    *,
    actor: User,
    gym: Gym,
    date: dt_date,
    name: str = "",
    opens_at: time | None = None,
    closes_at: time | None = None,
) -> SpecialDay:
    """Set a date's hours: closed when both times are empty. Saving a date again replaces it."""
    _require_management(actor)
    if (opens_at is None) != (closes_at is None):
        field = "closes_at" if closes_at is None else "opens_at"
        raise ValidationError(
            {field: [_("Give both times, or neither for a day the gym is closed.")]}
        )
    _check_range(opens_at, closes_at)
    values = {"name": name.strip(), "opens_at": opens_at, "closes_at": closes_at}
    day, created = SpecialDay.objects.select_for_update().get_or_create(
        gym=gym, date=date, defaults=values
    )
    before = (
        {}
        if created
        else {
            "name": day.name,
            "opens_at": _time_text(day.opens_at),
            "closes_at": _time_text(day.closes_at),
        }
    )
    if not created:
        for field, value in values.items():
            setattr(day, field, value)
        day.save(update_fields=list(values))
    after = {"name": day.name, "opens_at": _time_text(opens_at), "closes_at": _time_text(closes_at)}
    if created:
        after["date"] = date.isoformat()
    changes = changes_between(before, after)
    if changes:
        audit_record(
            action="special_day.created" if created else "special_day.updated",
            actor=actor,
            obj=day,
            changes=changes,
        )
    return day


@transaction.atomic
def special_day_delete(*, actor: User, day: SpecialDay) -> None:
    _require_management(actor)
    audit_record(
        action="special_day.deleted",
        actor=actor,
        obj=day,
        changes=changes_between({"date": day.date.isoformat(), "name": day.name}, {}),
    )
    day.delete()


@transaction.atomic
def opening_hours_week_save(
    *, actor: User, gym: Gym, week: dict[int, list[tuple[time, time]]]
) -> list[OpeningHours]:
    """Replace the whole week's hours in one go: `week` maps each weekday (Monday 0) to its
    ranges; a day left out or empty is closed. Errors name the field `hours-<day>`."""
    _require_management(actor)
    errors: dict[str, list[str]] = {}
    for weekday, ranges in week.items():
        if weekday not in range(7):
            errors["weekday"] = [_("Choose a day of the week.")]
            continue
        ordered = sorted(ranges)
        for opens_at, closes_at in ordered:
            if closes_at <= opens_at:
                errors[f"hours-{weekday}"] = [_("Closing time must be after opening time.")]
        for (_open1, close1), (open2, _close2) in pairwise(ordered):
            if open2 < close1:
                errors[f"hours-{weekday}"] = [_("These hours overlap hours of the same day.")]
    if errors:
        raise ValidationError(errors)
    Gym.objects.select_for_update().get(pk=gym.pk)

    def text(rows: list[tuple[time, time]]) -> list[str]:
        return [f"{_time_text(start)}-{_time_text(end)}" for start, end in sorted(rows)]

    existing = list(OpeningHours.objects.filter(gym=gym))
    before = {
        day: text([(h.opens_at, h.closes_at) for h in existing if h.weekday == day])
        for day in range(7)
    }
    after = {day: text(week.get(day, [])) for day in range(7)}
    if before == after:
        return existing
    OpeningHours.objects.filter(gym=gym).delete()
    created = OpeningHours.objects.bulk_create(
        OpeningHours(gym=gym, weekday=day, opens_at=start, closes_at=end)
        for day in range(7)
        for start, end in sorted(week.get(day, []))
    )
    audit_record(
        action="opening_hours.week_saved",
        actor=actor,
        obj=gym,
        changes=changes_between(
            {str(day): rows for day, rows in before.items()},
            {str(day): rows for day, rows in after.items()},
        ),
    )
    return created


# --- Gym settings: identity -------------------------------------------------------------------
# The logo files live in the gym's own storage prefix (the current schema's), so the services
# run on the gym's host only; the row is the public schema's.

IDENTITY_FIELDS = (
    "brand_colour",
    "address",
    "contact_email",
    "contact_phone",
    "email_sender",
    "currency",
    "unit_system",
    "language",
)


def _keep_tenant_current(gym: Gym, fields: tuple[str, ...]) -> None:
    # The request's tenant is a separate instance: keep it current for the rest of the request.
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Gym) and tenant.pk == gym.pk and tenant is not gym:
        for field in fields:
            setattr(tenant, field, getattr(gym, field))


@transaction.atomic
def gym_identity_update(*, actor: User, gym: Gym, **fields: str) -> Gym:
    """Change the gym's brand colour, address, contact details, currency, default units or
    language. Only the fields given change."""
    from apps.tenants.branding import brand_colour_clean, currency_is_known
    from apps.tenants.models import GymUnitSystem

    _require_management(actor)
    unknown = set(fields) - set(IDENTITY_FIELDS)
    if unknown:
        raise ValidationError({field: [_("Unknown field.")] for field in sorted(unknown)})
    values = {name: (value or "").strip() for name, value in fields.items()}
    errors: dict[str, list[str]] = {}
    if "brand_colour" in values:
        try:
            values["brand_colour"] = brand_colour_clean(values["brand_colour"])
        except ValidationError as exc:
            errors["brand_colour"] = exc.messages
    if "currency" in values:
        values["currency"] = values["currency"].upper()
        if not currency_is_known(values["currency"]):
            errors["currency"] = [_("Choose a currency from the list.")]
    if "unit_system" in values and values["unit_system"] not in GymUnitSystem.values:
        errors["unit_system"] = [_("Choose metric or imperial.")]
    if "language" in values and values["language"] not in dict(settings.LANGUAGES):
        errors["language"] = [_("Choose a language from the list.")]
    if values.get("contact_email"):
        try:
            validate_email(values["contact_email"])
        except ValidationError as exc:
            errors["contact_email"] = exc.messages
    if values.get("email_sender"):
        values["email_sender"] = values["email_sender"].lower()
        try:
            validate_email(values["email_sender"])
        except ValidationError as exc:
            errors["email_sender"] = exc.messages
    if values.get("contact_phone"):
        from apps.crm.phones import normalise_phone

        try:
            values["contact_phone"] = normalise_phone(
                values["contact_phone"], field="contact_phone"
            )
        except ValidationError as exc:
            errors["contact_phone"] = exc.messages
    if len(values.get("address", "")) > 500:
        errors["address"] = [_("The address is too long.")]
    if errors:
        raise ValidationError(errors)
    gym = Gym.objects.select_for_update().get(pk=gym.pk)
    before = {name: getattr(gym, name) for name in values}
    for name, value in values.items():
        setattr(gym, name, value)
    if "email_sender" in values and values["email_sender"] != before["email_sender"]:
        # A new address's domain is not verified with the mail provider yet.
        gym.email_sender_verified = False
    changes = changes_between(before, values)
    if not changes:
        return gym
    gym.brand_version += 1
    gym.save(update_fields=[*values, "brand_version", "email_sender_verified"])
    audit_record(action="gym.identity_updated", actor=actor, obj=gym, changes=changes)
    _keep_tenant_current(gym, (*IDENTITY_FIELDS, "brand_version", "email_sender_verified"))
    return gym


def _require_gyms_host(gym: Gym) -> None:
    if connection.schema_name != gym.schema_name:
        raise PermissionDenied(_("A gym's logo is changed on the gym's own address."))


def _delete_files(*names: str) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except OSError:  # pragma: no cover - a missing file is already gone
                logger.warning("could not delete %s", name)


@transaction.atomic
def gym_logo_set(*, actor: User, gym: Gym, image: IO[bytes], size: int | None = None) -> Gym:
    """Check and keep a new logo (and its square icon); the old files go once this commits."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from apps.tenants.branding import process_logo

    _require_management(actor)
    _require_gyms_host(gym)
    processed = process_logo(image, size=size)
    stem = secrets.token_urlsafe(18)
    logo_name = default_storage.save(f"brand/{stem}-logo.png", ContentFile(processed.logo))
    icon_name = default_storage.save(f"brand/{stem}-icon.png", ContentFile(processed.icon))
    gym = Gym.objects.select_for_update().get(pk=gym.pk)
    old = (gym.logo_name, gym.icon_name)
    gym.logo_name, gym.icon_name = logo_name, icon_name
    gym.brand_version += 1
    try:
        gym.save(update_fields=["logo_name", "icon_name", "brand_version"])
    except Exception:
        _delete_files(logo_name, icon_name)
        raise
    audit_record(
        action="gym.logo_changed",
        actor=actor,
        obj=gym,
        changes={"logo": {"before": bool(old[0]), "after": True}},
    )
    transaction.on_commit(lambda: _delete_files(*old))
    _keep_tenant_current(gym, ("logo_name", "icon_name", "brand_version"))
    return gym


@transaction.atomic
def gym_logo_remove(*, actor: User, gym: Gym) -> Gym:
    _require_management(actor)
    _require_gyms_host(gym)
    gym = Gym.objects.select_for_update().get(pk=gym.pk)
    old = (gym.logo_name, gym.icon_name)
    if not any(old):
        return gym
    gym.logo_name = gym.icon_name = ""
    gym.brand_version += 1
    gym.save(update_fields=["logo_name", "icon_name", "brand_version"])
    audit_record(
        action="gym.logo_changed",
        actor=actor,
        obj=gym,
        changes={"logo": {"before": True, "after": False}},
    )
    transaction.on_commit(lambda: _delete_files(*old))
    _keep_tenant_current(gym, ("logo_name", "icon_name", "brand_version"))
    return gym
