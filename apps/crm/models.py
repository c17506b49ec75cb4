"""Who the trainers and clients are and who coaches whom. Tables live in each gym's schema."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import CharField, F, Func, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.constraints import field_error_for_constraint
from apps.core.dates import validate_birth_date
from apps.core.fields import EncryptedTextField
from apps.core.models import TimeStampedModel

HEX_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1a7f5a."))


def phone_digits() -> Func:
    """The digits of a client's phone ("+44 7700 900123" -> "447700900123")."""
    return Func(
        F("phone"),
        Value(r"\D"),
        Value(""),
        Value("g"),
        function="regexp_replace",
        output_field=CharField(),
    )


def client_search_text() -> Concat:
    """What the client search looks for a term in (apps.crm.selectors.client_search_q): name,
    email and phone in one text, so one trigram index answers it. The parts are joined by a
    line break, which a search box does not send, so a term never spans two of them."""
    parts: list[F | Value] = []
    for name in ("first_name", "last_name", "email", "phone"):
        parts += [F(name), Value("\n")]
    return Concat(*parts[:-1], output_field=CharField())


class Trainer(TimeStampedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="trainer_profile",
    )
    bio = models.TextField(_("bio"), blank=True)
    specialties = ArrayField(
        models.CharField(max_length=60), verbose_name=_("specialties"), default=list, blank=True
    )
    hourly_rate = models.DecimalField(
        _("hourly rate"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    calendar_colour = models.CharField(
        _("calendar colour"), max_length=7, default="#1a7f5a", validators=[HEX_COLOUR]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("trainer")
        verbose_name_plural = _("trainers")
        ordering = ("user__first_name", "user__last_name", "pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(hourly_rate__isnull=True) | Q(hourly_rate__gte=0),
                name="trainer_hourly_rate_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(calendar_colour__regex=r"^#[0-9a-fA-F]{6}$"),
                name="trainer_calendar_colour_is_hex",
            ),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.email

    @property
    def name(self) -> str:
        return str(self)


class Certification(models.Model):
    trainer = models.ForeignKey(Trainer, on_delete=models.CASCADE, related_name="certifications")
    name = models.CharField(_("name"), max_length=120)
    issuer = models.CharField(_("issuer"), max_length=120, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ("expires_on", "name")
        indexes = [models.Index(fields=["expires_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(issued_on__isnull=True)
                | Q(expires_on__gte=models.F("issued_on")),
                name="certification_expires_after_issue",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ClientStatus(models.TextChoices):
    LEAD = "lead", _("Lead")
    TRIAL = "trial", _("Trial")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    CHURNED = "churned", _("Churned")


class Client(TimeStampedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("portal login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="client_profile",
    )
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    date_of_birth = models.DateField(
        _("date of birth"), null=True, blank=True, validators=[validate_birth_date]
    )
    emergency_contact_name = models.CharField(_("emergency contact"), max_length=150, blank=True)
    emergency_contact_phone = models.CharField(
        _("emergency contact phone"), max_length=32, blank=True
    )
    goals = models.TextField(_("goals"), blank=True)
    # Health data: encrypted at rest, shown only to managers and the client's trainers.
    health_notes = EncryptedTextField(_("health notes"), blank=True, default="")
    parq_answers = models.JSONField(_("PAR-Q answers"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ClientStatus.choices, default=ClientStatus.ACTIVE
    )
    tags = ArrayField(
        models.CharField(max_length=40), verbose_name=_("tags"), default=list, blank=True
    )
    source = models.CharField(_("source"), max_length=60, blank=True)
    joined_on = models.DateField(_("joined on"), default=timezone.localdate)
    churned_on = models.DateField(_("churned on"), null=True, blank=True)
    notify_by_email = models.BooleanField(_("email notifications"), default=True)
    notify_by_sms = models.BooleanField(_("SMS notifications"), default=False)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ("last_name", "first_name", "pk")
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["joined_on"]),
            models.Index(fields=["last_name", "first_name"]),
            models.Index(models.functions.Lower("email"), name="crm_client_email_lower"),
            models.Index(fields=["phone"]),
            GinIndex(fields=["tags"], name="crm_client_tags_gin"),
            GinIndex(
                OpClass(client_search_text(), name="gin_trgm_ops"), name="crm_client_search_trgm"
            ),
            GinIndex(
                OpClass(phone_digits(), name="gin_trgm_ops"), name="crm_client_phone_digits_trgm"
            ),
        ]
        constraints = [
            # One client per email in a gym (case-insensitive); clients without email are fine.
            models.UniqueConstraint(
                models.functions.Lower("email"),
                condition=~Q(email=""),
                name="crm_client_email_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ClientStatus.values), name="crm_client_status_known"
            ),
            models.CheckConstraint(
                condition=Q(churned_on__isnull=True) | Q(churned_on__gte=models.F("joined_on")),
                name="crm_client_churned_after_joined",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ConsentKind(models.TextChoices):
    DATA_PROCESSING = "data_processing", _("Processing of health data")
    MARKETING_EMAIL = "marketing_email", _("Marketing emails")
    SMS = "sms", _("Text messages")
    PHOTOS = "photos", _("Progress photos")


class Consent(models.Model):
    """A consent as given or withdrawn, with when: a history, never edited."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(_("kind"), max_length=30, choices=ConsentKind.choices)
    granted = models.BooleanField(_("granted"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ("-recorded_at", "-pk")
        indexes = [models.Index(fields=["client", "kind", "-recorded_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.granted}"


class Assignment(models.Model):
    """A trainer coaching a client. Ending one keeps it (with its end date) as history."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="assignments")
    trainer = models.ForeignKey(Trainer, on_delete=models.PROTECT, related_name="assignments")
    is_primary = models.BooleanField(_("primary trainer"), default=False)
    starts_on = models.DateField(_("starts on"), default=timezone.localdate)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ("-starts_on", "-pk")
        indexes = [models.Index(fields=["trainer", "ends_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "trainer"],
                condition=Q(ends_on__isnull=True),
                name="crm_one_open_assignment_per_pair",
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(ends_on__isnull=True, is_primary=True),
                name="crm_one_primary_trainer",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="crm_assignment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trainer} → {self.client}"

    @property
    def is_current(self) -> bool:
        return self.ends_on is None


class NoteKind(models.TextChoices):
    GENERAL = "general", _("General")
    SESSION = "session", _("Session")
    HEALTH = "health", _("Health")


class Note(TimeStampedModel):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="crm_notes"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=NoteKind.choices)
    # Encrypted: health notes are health data, and other notes often mention health too.
    body = EncryptedTextField(_("note"))

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=["client", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=NoteKind.values), name="crm_note_kind_known"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} note on {self.client_id}"


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    CONVERTED = "converted", _("Converted")
    LOST = "lost", _("Lost")


class Lead(models.Model):
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    message = models.TextField(_("message"), blank=True)
    source = models.CharField(_("source"), max_length=60, blank=True, default="website")
    status = models.CharField(
        _("status"), max_length=10, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    marketing_consent = models.BooleanField(_("agreed to marketing"), default=False)
    # Not one-to-one: someone who enquires twice (two join forms with one email) becomes one
    # client, and each of their leads points to it.
    client = models.ForeignKey(
        Client,
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    converted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=["status", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(email="") | ~Q(phone=""), name="crm_lead_has_contact"
            ),
            models.CheckConstraint(
                condition=Q(status__in=LeadStatus.values), name="crm_lead_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


field_error_for_constraint(
    "crm_client_email_unique",
    field="email",
    message=_("A client with this email already exists."),
)
