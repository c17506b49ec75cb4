"""Creating gyms. Every way in (sign-up page, API, management command) goes through gym_create."""

from __future__ import annotations

import logging
import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context, schema_exists

from apps.accounts.models import Role, User
from apps.audit.services import audit_record
from apps.tenants.models import Domain, Gym, SpareSchema
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
