"""Writes of campaigns: segments, campaigns and their life (schedule, send, cancel), what
recipients do with the mail (unsubscribe, click), and the batched sending itself.

Sending, exactly once per recipient (docs/architecture.md, "Campaigns"):

1. When sending starts, one `notifications.Delivery` row per recipient is made in one
   transaction ("queued", event_key "campaign:<id>:client:<id>", unique per channel), so the
   audience is frozen and a second start adds nobody twice.
2. One sender at a time per campaign: a PostgreSQL advisory lock held by the sending
   connection. A sender that dies loses its connection, and PostgreSQL frees the lock at once.
3. Recipients are claimed a batch at a time ("queued" -> "sending", one durable commit), then
   sent in order. Just before each SMTP conversation the row's attempt is committed (sent_at
   set), and "sent" right after it. A restarted sender never touches "sent" rows and never
   resends a row whose attempt had begun: its sender died between the attempt and the mark,
   so the mail may or may not have left. It is marked failed ("interrupted"), never sent
   twice; the batch's rows never tried go back to "queued".

The at-most-once window is therefore one message per sender death: the message whose SMTP
conversation was under way. Its Message-ID is stable per recipient
(<campaign-<id>.client-<id>.<schema>@<domain>>), so a provider or a mailbox that sees it twice
(say, an operator re-queues it by hand) can tell it is the same mail.

The per-message commits do not wait for the disk (synchronous_commit off; claims do): other
connections see them at once, so a dead worker loses nothing. A crash of PostgreSQL itself can
lose the last fraction of a second of them (up to three wal_writer_delay); those rows come back
"sending" with no attempt and are sent again: the one case that repeats mail. Without that
choice each message would wait for two disk flushes (measured at about 5 ms each on a busy
machine), which alone caps a sender near 100 mails a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any
from zlib import crc32

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.audit.services import audit_record, changes_between
from apps.campaigns.links import LinkBuilder, LinkTarget
from apps.campaigns.models import (
    Campaign,
    CampaignChannel,
    CampaignResponse,
    CampaignStatus,
    ResponseKind,
    Segment,
)
from apps.campaigns.segments import definition_clean
from apps.campaigns.selectors import campaign_audience, may_run_campaigns
from apps.core.services import model_save, snapshot
from apps.crm.models import Client, Consent, ConsentKind
from apps.crm.selectors import current_trainer_rows
from apps.tenants.selectors import current_gym, gym_url, gym_zone

# The placeholders a campaign may use (apps.notifications.templating).
CAMPAIGN_PLACEHOLDERS = (
    "first_name",
    "last_name",
    "full_name",
    "gym_name",
    "trainer_name",
    "portal_url",
    "unsubscribe_url",
)
CAMPAIGN_FIELDS = ("name", "channel", "segment", "subject", "body")
DELIVERY_KIND = "campaign"
BATCH_SIZE = 200
# A task sends this many batches, then hands the rest to a fresh task, so no task runs anywhere
# near the broker's visibility timeout.
BATCHES_PER_TASK = 10
INTERRUPTED = "Interrupted during the send: it may have left; not sent again to avoid a duplicate."


def _check_actor(actor: User) -> None:
    if not may_run_campaigns(actor):
        raise PermissionDenied(_("Only owners and managers run campaigns."))


# --- Segments ---------------------------------------------------------------------------------


@transaction.atomic
def segment_create(*, actor: User, name: str, definition: Mapping[str, Any]) -> Segment:
    _check_actor(actor)
    segment = Segment(name=name.strip(), definition=definition_clean(definition), created_by=actor)
    model_save(segment, exclude=["created_by"])
    audit_record(action="segment.created", actor=actor, obj=segment, changes={"name": name})
    return segment


@transaction.atomic
def segment_update(
    *, actor: User, segment: Segment, name: str, definition: Mapping[str, Any]
) -> Segment:
    _check_actor(actor)
    before = snapshot(segment, ("name", "definition"))
    segment.name = name.strip()
    segment.definition = definition_clean(definition)
    model_save(segment, exclude=["created_by"])
    audit_record(
        action="segment.updated",
        actor=actor,
        obj=segment,
        changes=changes_between(before, snapshot(segment, ("name", "definition"))),
    )
    return segment


@transaction.atomic
def segment_delete(*, actor: User, segment: Segment) -> None:
    _check_actor(actor)
    if segment.campaigns.exists():
        raise ValidationError(
            {"segment": [_("Campaigns use this audience: delete or change them first.")]}
        )
    audit_record(action="segment.deleted", actor=actor, obj=segment)
    segment.delete()


# --- Campaigns --------------------------------------------------------------------------------


def campaign_text_validate(*, channel: str, subject: str, body: str) -> None:
    """Each field's placeholders known (a ValidationError naming the field otherwise); an email
    needs a subject."""
    from apps.notifications.templating import validate_template

    errors: dict[str, list[str]] = {}
    fields = {"body": body}
    if channel == CampaignChannel.EMAIL:
        fields["subject"] = subject
        if not subject.strip():
            errors["subject"] = [_("An email needs a subject.")]
    for field, text in fields.items():
        try:
            validate_template(text, field=field, allowed=CAMPAIGN_PLACEHOLDERS)
        except ValidationError as error:
            errors.setdefault(field, []).extend(error.message_dict[field])
    if not body.strip():
        errors.setdefault("body", []).append(_("Write the message."))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_create(*, actor: User, **fields: Any) -> Campaign:
    _check_actor(actor)
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValidationError({name: [_("You cannot set this field.")] for name in unknown})
    campaign = Campaign(created_by=actor, **fields)
    campaign_text_validate(
        channel=campaign.channel, subject=campaign.subject or "", body=campaign.body or ""
    )
    model_save(campaign, exclude=["created_by"])
    audit_record(
        action="campaign.created", actor=actor, obj=campaign, changes={"name": campaign.name}
    )
    return campaign


@transaction.atomic
def campaign_update(*, actor: User, campaign: Campaign, **fields: Any) -> Campaign:
    _check_actor(actor)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_editable:
        raise ValidationError({"status": [_("A campaign that has started cannot be changed.")]})
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValidationError({name: [_("You cannot set this field.")] for name in unknown})
    before = snapshot(campaign, CAMPAIGN_FIELDS)
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign_text_validate(channel=campaign.channel, subject=campaign.subject, body=campaign.body)
    model_save(campaign, exclude=["created_by"])
    audit_record(
        action="campaign.updated",
        actor=actor,
        obj=campaign,
        changes=changes_between(before, snapshot(campaign, CAMPAIGN_FIELDS)),
    )
    return campaign


def _enqueue_send(campaign_id: int) -> None:
    from apps.campaigns.tasks import send_campaign

    transaction.on_commit(lambda: send_campaign.delay(campaign_id))


def _set_status(campaign: Campaign, status: str, *, actor: User | None, **extra: Any) -> None:
    before = {"status": campaign.status}
    campaign.status = status
    for name, value in extra.items():
        setattr(campaign, name, value)
    campaign.save(update_fields=["status", *extra, "updated_at"])
    audit_record(
        action=f"campaign.{status}",
        actor=actor,
        obj=campaign,
        changes=changes_between(
            before, {"status": status, **{k: v for k, v in extra.items() if k == "scheduled_at"}}
        ),
    )


@transaction.atomic
def campaign_send_now(*, actor: User, campaign: Campaign) -> Campaign:
    """Start sending at once (on Celery, after this transaction commits)."""
    _check_actor(actor)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_editable:
        raise ValidationError({"status": [_("This campaign has already started.")]})
    campaign_text_validate(channel=campaign.channel, subject=campaign.subject, body=campaign.body)
    _set_status(campaign, CampaignStatus.SENDING, actor=actor, started_at=timezone.now())
    _enqueue_send(campaign.pk)
    return campaign


def local_send_time(value: datetime) -> datetime:
    """A wall-clock time in the gym's time zone (naive) as an aware instant; a time that does
    not exist there (the hour skipped when clocks go forward) or lies in the past is refused."""
    zone = gym_zone()
    if timezone.is_aware(value):
        value = value.astimezone(zone).replace(tzinfo=None)
    aware = value.replace(tzinfo=zone)
    # A time in the gap comes back different after a round trip through UTC.
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        raise ValidationError(
            {
                "scheduled_at": [
                    _("This time does not exist in the gym's time zone (clocks change).")
                ]
            }
        )
    if aware <= timezone.now():
        raise ValidationError({"scheduled_at": [_("Pick a time in the future.")]})
    return aware


@transaction.atomic
def campaign_schedule(*, actor: User, campaign: Campaign, send_at: datetime) -> Campaign:
    """Send at `send_at`, a wall-clock time in the gym's time zone; the periodic task
    `campaigns.start_due` starts it within a minute of that."""
    _check_actor(actor)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_editable:
        raise ValidationError({"status": [_("This campaign has already started.")]})
    campaign_text_validate(channel=campaign.channel, subject=campaign.subject, body=campaign.body)
    _set_status(
        campaign, CampaignStatus.SCHEDULED, actor=actor, scheduled_at=local_send_time(send_at)
    )
    return campaign


@transaction.atomic
def campaign_cancel(*, actor: User, campaign: Campaign) -> Campaign:
    """Stop a scheduled or sending campaign: the recipients not reached yet get nothing."""
    _check_actor(actor)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status not in (
        CampaignStatus.DRAFT,
        CampaignStatus.SCHEDULED,
        CampaignStatus.SENDING,
    ):
        raise ValidationError({"status": [_("This campaign has finished.")]})
    from apps.notifications.models import Delivery

    Delivery.objects.filter(group_key=campaign.group_key, status="queued").update(
        status="skipped", error="Campaign cancelled."
    )
    _set_status(campaign, CampaignStatus.CANCELLED, actor=actor, finished_at=timezone.now())
    return campaign


def campaigns_start_due(*, now: datetime | None = None) -> int:
    """In the gym's schema, every minute: start the scheduled campaigns that are due, and hand
    every campaign still sending to a sender (a duplicate finds the lock taken and stops), so a
    campaign whose task was lost resumes. Returns how many were started."""
    now = now or timezone.now()
    started = 0
    with transaction.atomic():
        due = list(
            Campaign.objects.select_for_update(skip_locked=True).filter(
                status=CampaignStatus.SCHEDULED, scheduled_at__lte=now
            )
        )
        for campaign in due:
            _set_status(campaign, CampaignStatus.SENDING, actor=None, started_at=now)
            started += 1
        for pk in Campaign.objects.filter(status=CampaignStatus.SENDING).values_list(
            "pk", flat=True
        ):
            _enqueue_send(pk)
    return started


# --- What recipients do -----------------------------------------------------------------------


def _response_count(*, campaign_id: int, client_id: int, kind: str, url: str = "") -> None:
    now = timezone.now()
    changes: dict[str, Any] = {"last_at": now}
    if kind == ResponseKind.CLICK:
        changes.update(count=F("count") + 1, url=url)
    rows = CampaignResponse.objects.filter(campaign_id=campaign_id, client_id=client_id, kind=kind)
    if rows.update(**changes):
        return
    try:
        with transaction.atomic():
            CampaignResponse.objects.create(
                campaign_id=campaign_id, client_id=client_id, kind=kind, url=url
            )
    except IntegrityError:
        # Another request recorded the first one meanwhile (or the campaign or client is gone).
        rows.update(**changes)


@transaction.atomic
def unsubscribe_record(*, target: LinkTarget) -> bool:
    """The recipient of a signed unsubscribe link withdraws their marketing consent for the
    link's channel: a Consent row (granted=False), the address on the suppression list, and the
    campaign's unsubscribe count. Idempotent; False when the client no longer exists."""
    from apps.notifications.models import SuppressionReason
    from apps.notifications.services import suppression_add

    client = Client.objects.filter(pk=target.client_id).first()
    if client is None:
        return False
    channel = target.channel if target.channel in CampaignChannel.values else "email"
    kind = ConsentKind.SMS if channel == CampaignChannel.SMS else ConsentKind.MARKETING_EMAIL
    latest = client.consents.filter(kind=kind).order_by("-recorded_at", "-pk").first()
    if latest is None or latest.granted:
        Consent.objects.create(client=client, kind=kind, granted=False)
        audit_record(
            action="client.consent_recorded",
            obj=client,
            changes={kind: {"before": latest.granted if latest else None, "after": False}},
        )
    address = client.phone if channel == CampaignChannel.SMS else client.email
    if address:
        suppression_add(
            channel=channel,
            address=address,
            reason=SuppressionReason.UNSUBSCRIBE,
            detail=f"campaign:{target.campaign_id}",
        )
    if Campaign.objects.filter(pk=target.campaign_id).exists():
        _response_count(
            campaign_id=target.campaign_id, client_id=client.pk, kind=ResponseKind.UNSUBSCRIBE
        )
    return True


def click_record(*, target: LinkTarget) -> None:
    """Count a click of a tracked link (per recipient: the first time and how often)."""
    if (
        Campaign.objects.filter(pk=target.campaign_id).exists()
        and Client.objects.filter(pk=target.client_id).exists()
    ):
        _response_count(
            campaign_id=target.campaign_id,
            client_id=target.client_id,
            kind=ResponseKind.CLICK,
            url=target.url,
        )


# --- Rendering --------------------------------------------------------------------------------

# Stands for the unsubscribe link while links are rewritten for tracking: it is never tracked.
_UNSUBSCRIBE_MARK = "[[unsubscribe-link]]"
_CONTENT_MARK = "CAMPAIGNCONTENTMARK"
_URL_MARK = "CAMPAIGNUNSUBSCRIBEURLMARK"


@dataclass
class RenderedMail:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


class CampaignRenderer:
    """Renders one campaign for many recipients: the gym, its layout and links are read once."""

    def __init__(self, campaign: Campaign) -> None:
        from apps.notifications.email import layout_context

        self.campaign = campaign
        self.gym = current_gym()
        self.links = LinkBuilder(campaign.pk)
        self.layout = layout_context(self.gym)
        self.portal_url = gym_url(gym=self.gym, path="/portal/")
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "fitnesscrm"
        self.message_domain = domain
        self.language = self.gym.language
        self._shell: tuple[str, str, str] | None = None

    def context(self, client: Client, trainer_name: str = "") -> dict[str, str]:
        return {
            "first_name": client.first_name,
            "last_name": client.last_name,
            "full_name": client.full_name,
            "gym_name": self.gym.name,
            "trainer_name": trainer_name,
            "portal_url": self.portal_url,
            "unsubscribe_url": _UNSUBSCRIBE_MARK,
        }

    def message_id(self, client_id: int) -> str:
        schema = connection.schema_name
        return f"<campaign-{self.campaign.pk}.client-{client_id}.{schema}@{self.message_domain}>"

    def _shells(self) -> tuple[str, str, str]:
        """The text and HTML documents and the unsubscribe anchor with marks where each
        recipient's content and unsubscribe link go: the layout is rendered once per campaign
        run, not once per recipient (the marks are plain words that escaping leaves alone)."""
        if self._shell is None:
            with translation.override(self.language):
                footer = _("You receive this because you agreed to news from %(gym)s.") % {
                    "gym": self.gym.name
                }
                text_shell = render_to_string(
                    "email/base.txt",
                    {
                        **self.layout,
                        "content": _CONTENT_MARK,
                        "footer": f"{footer}\n" + _("Unsubscribe: %(url)s") % {"url": _URL_MARK},
                    },
                )
                html_shell = render_to_string(
                    "email/base.html",
                    {
                        **self.layout,
                        "content_html": _CONTENT_MARK,
                        "footer": footer,
                        "unsubscribe_url": _URL_MARK,
                        "LANGUAGE_CODE": self.language,
                    },
                )
                anchor = format_html('<a href="{}">{}</a>', _URL_MARK, _("Unsubscribe"))
            self._shell = (text_shell, html_shell, str(anchor))
        return self._shell

    def render(self, client: Client, trainer_name: str = "", *, track: bool = True) -> RenderedMail:
        from apps.notifications.templating import render_template

        context = self.context(client, trainer_name)
        unsubscribe_url = self.links.unsubscribe_url(client.pk)
        subject = render_template(self.campaign.subject, context).replace(_UNSUBSCRIBE_MARK, "")
        body = render_template(self.campaign.body, context)
        text = self.links.tracked_text(body, client.pk) if track else body
        html_content = self.links.tracked_html(body, client.pk, track=track)
        text_shell, html_shell, unsubscribe_anchor = self._shells()
        anchor = unsubscribe_anchor.replace(_URL_MARK, unsubscribe_url)
        text_doc = text_shell.replace(
            _CONTENT_MARK, text.replace(_UNSUBSCRIBE_MARK, unsubscribe_url)
        ).replace(_URL_MARK, unsubscribe_url)
        html_doc = html_shell.replace(
            _CONTENT_MARK, html_content.replace(_UNSUBSCRIBE_MARK, anchor)
        ).replace(_URL_MARK, unsubscribe_url)
        headers = {
            "Message-ID": self.message_id(client.pk),
            # RFC 2369 and RFC 8058: mail clients show an Unsubscribe button that POSTs here.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"<campaigns.{connection.schema_name}.{self.message_domain}>",
            "Precedence": "bulk",
        }
        return RenderedMail(subject=subject, text=text_doc, html=html_doc, headers=headers)

    def email(
        self, client: Client, trainer_name: str = "", *, to: str | None = None, track: bool = True
    ) -> Any:
        from apps.notifications.email import build_email

        mail = self.render(client, trainer_name, track=track)
        return build_email(
            to=to or client.email,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            category="marketing",
            headers=mail.headers,
            metadata={"campaign": self.campaign.pk, "client": client.pk},
            wrapped=True,
        )


def campaign_preview(*, campaign: Campaign, client: Client | None = None) -> RenderedMail:
    """The campaign as a recipient sees it (the first of its audience, else a sample person),
    in the gym's branded layout."""
    if client is None:
        client = campaign_audience(campaign).order_by("pk").first() or Client(
            pk=0, first_name=_("Alex"), last_name=_("Example"), email="alex@example.com"
        )
    return CampaignRenderer(campaign).render(client, track=False)


def campaign_test_send(*, actor: User, campaign: Campaign) -> str:
    """Send the campaign to the editor's own address, as the first recipient would see it,
    marked as a test. Returns the address. Recorded in the delivery log, never in figures."""
    from apps.notifications.models import Delivery

    _check_actor(actor)
    campaign_text_validate(channel=campaign.channel, subject=campaign.subject, body=campaign.body)
    if not actor.email:
        raise ValidationError({"email": [_("Your account has no email address.")]})
    renderer = CampaignRenderer(campaign)
    sample = campaign_audience(campaign).order_by("pk").first() or Client(
        pk=0, first_name=actor.first_name or _("Alex"), last_name=actor.last_name, email=actor.email
    )
    message = renderer.email(sample, to=actor.email, track=False)
    message.subject = _("[Test] %(subject)s") % {"subject": message.subject}
    del message.extra_headers["Message-ID"]
    delivery = Delivery.objects.create(
        recipient_user=actor,
        address=actor.email,
        channel="email",
        kind=DELIVERY_KIND,
        category="marketing",
        subject=message.subject[:255],
        status="sending",
        event_key=f"campaign:{campaign.pk}:test:{timezone.now().timestamp()}",
        attempts=1,
    )
    try:
        message.send()
    except Exception as error:
        Delivery.objects.filter(pk=delivery.pk).update(status="failed", error=str(error)[:2000])
        raise ValidationError(
            {"email": [_("The test could not be sent: %(error)s") % {"error": error}]}
        ) from error
    Delivery.objects.filter(pk=delivery.pk).update(status="sent", sent_at=timezone.now())
    audit_record(
        action="campaign.test_sent", actor=actor, obj=campaign, changes={"to": actor.email}
    )
    return actor.email


# --- Sending ----------------------------------------------------------------------------------


@contextmanager
def sender_lock(campaign_id: int) -> Iterator[bool]:
    """Whether this connection became the campaign's only sender (a session-level advisory
    lock: held across the many small transactions of a send, freed by PostgreSQL the moment a
    dead worker's connection goes)."""
    key = crc32(f"campaigns:{connection.schema_name}:{campaign_id}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [0x43414D50, key - 2**31])
        got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [0x43414D50, key - 2**31])


class RateLimit:
    """At most `per_second` sends a second for the whole gym, across all workers: a counter per
    second in the shared cache (Redis), keyed by the gym's schema (make_key)."""

    def __init__(self, per_second: int) -> None:
        self.per_second = max(1, per_second)

    def wait(self) -> None:
        while True:
            second = int(time.time())
            key = f"campaigns:rate:{second}"
            if cache.add(key, 1, timeout=5):
                return
            try:
                if cache.incr(key) <= self.per_second:
                    return
            except ValueError:
                continue
            time.sleep(max(0.0, second + 1 - time.time()))


def send_rate() -> int:
    return int(getattr(settings, "CAMPAIGN_SEND_RATE", 50))


def _materialise(campaign: Campaign) -> None:
    """One queued Delivery per recipient, made once when sending starts (the audience frozen)."""
    from apps.notifications.models import Delivery

    if campaign.recipient_count is not None:
        return
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.recipient_count is not None:
            campaign.recipient_count = locked.recipient_count
            return
        field = "phone" if campaign.channel == CampaignChannel.SMS else "email"
        recipients = campaign_audience(campaign).order_by("pk").values_list("pk", field)
        rows = [
            Delivery(
                recipient_client_id=pk,
                address=address.strip().lower() if field == "email" else address,
                channel=campaign.channel,
                kind=DELIVERY_KIND,
                category="marketing",
                subject=campaign.subject[:255],
                status="queued",
                event_key=campaign.event_key(pk),
                group_key=campaign.group_key,
            )
            for pk, address in recipients.iterator(chunk_size=2000)
        ]
        Delivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        count = Delivery.objects.filter(group_key=campaign.group_key).count()
        Campaign.objects.filter(pk=campaign.pk).update(recipient_count=count)
        campaign.recipient_count = count


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    interrupted: int = 0
    remaining: int = 0
    busy: bool = False


# Called after each message has left and been marked sent (tests use it to stop a sender
# mid-campaign as a dying worker would).
AfterSend = Callable[[int], None]


def campaign_deliver(
    *,
    campaign_id: int,
    max_messages: int | None = None,
    batch_size: int = BATCH_SIZE,
    after_send: AfterSend | None = None,
) -> SendResult:
    """Send the campaign's queued deliveries in batches (see the module docstring), at most
    `max_messages` this call; the campaign is marked sent when none are left. Safe to call any
    number of times, concurrently too."""
    from apps.notifications.models import Delivery

    result = SendResult()
    campaign = Campaign.objects.select_related("segment").filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CampaignStatus.SENDING:
        return result
    with sender_lock(campaign.pk) as got:
        if not got:
            result.busy = True
            return result
        _materialise(campaign)
        result.interrupted = _settle_interrupted(campaign)
        renderer = CampaignRenderer(campaign) if campaign.channel == CampaignChannel.EMAIL else None
        limit = RateLimit(send_rate())
        with _quick_commits():
            while max_messages is None or result.sent + result.failed < max_messages:
                size = batch_size
                if max_messages is not None:
                    size = min(size, max_messages - result.sent - result.failed)
                batch = _claim(campaign, size)
                if not batch:
                    break
                _send_batch(campaign, renderer, batch, limit, result, after_send)
                campaign.refresh_from_db(fields=["status"])
                if campaign.status != CampaignStatus.SENDING:
                    return result
        result.remaining = Delivery.objects.filter(
            group_key=campaign.group_key, status__in=("queued", "sending")
        ).count()
        if not result.remaining:
            with transaction.atomic():
                updated = Campaign.objects.filter(
                    pk=campaign.pk, status=CampaignStatus.SENDING
                ).update(status=CampaignStatus.SENT, finished_at=timezone.now())
                if updated:
                    audit_record(
                        action="campaign.sent",
                        obj=campaign,
                        changes={"status": {"before": "sending", "after": "sent"}},
                    )
    return result


@contextmanager
def _quick_commits() -> Iterator[None]:
    """The per-message marks commit without waiting for the disk (synchronous_commit off):
    they are visible to every other connection at once, which is what a restarted sender
    needs after a worker dies; only a crash of PostgreSQL itself can lose the last fraction of
    a second of them (see the module docstring). Claims stay durable (`_claim`)."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _claim(campaign: Campaign, size: int) -> list[tuple[int, int | None, str]]:
    """The next `size` queued deliveries, now "sending": one durable commit per batch, before
    anything of the batch leaves."""
    from apps.notifications.models import Delivery

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = on")
        batch = list(
            Delivery.objects.filter(group_key=campaign.group_key, status="queued")
            .order_by("pk")
            .values_list("pk", "recipient_client_id", "address")[:size]
        )
        if batch:
            Delivery.objects.filter(pk__in=[row[0] for row in batch]).update(status="sending")
    return batch


def _settle_interrupted(campaign: Campaign) -> int:
    """Under the campaign's lock, a "sending" row belongs to a sender that died. One whose
    attempt had begun (sent_at set just before the SMTP conversation) may have left: it is
    marked failed, never sent again. The others of that batch were never tried: queued again.
    Returns how many were interrupted (at most one per dead sender)."""
    from apps.notifications.models import Delivery

    rows = Delivery.objects.filter(group_key=campaign.group_key, status="sending")
    interrupted = rows.filter(sent_at__isnull=False).update(status="failed", error=INTERRUPTED)
    rows.filter(sent_at__isnull=True).update(status="queued")
    return interrupted


def _delivery_table() -> str:
    from apps.notifications.models import Delivery

    return connection.ops.quote_name(Delivery._meta.db_table)


def _mark_attempt(delivery_pk: int) -> None:
    """The attempt begins: from here the message may leave (committed before the SMTP send).
    Plain SQL: two of these statements per mail are most of a sender's database time."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_delivery_table()} SET sent_at = %s, attempts = attempts + 1 WHERE id = %s",  # noqa: S608 (a model's table name)
            [timezone.now(), delivery_pk],
        )


def _mark_sent(delivery_pk: int, *, provider: str, provider_id: str) -> None:
    """The message has left."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_delivery_table()} SET status = 'sent', provider = %s, provider_id = %s "  # noqa: S608
            "WHERE id = %s",
            [provider, provider_id, delivery_pk],
        )


def _send_batch(
    campaign: Campaign,
    renderer: CampaignRenderer | None,
    batch: list[tuple[int, int | None, str]],
    limit: RateLimit,
    result: SendResult,
    after_send: AfterSend | None,
) -> None:
    from apps.notifications.email import connection_for, provider_for
    from apps.notifications.models import Delivery

    client_ids = [client_id for _pk, client_id, _address in batch if client_id]
    # Read again now: someone who unsubscribed (or bounced) since the start gets nothing.
    reachable = set(
        campaign_audience(campaign).filter(pk__in=client_ids).values_list("pk", flat=True)
    )
    clients = Client.objects.only("pk", "first_name", "last_name", "email", "phone").in_bulk(
        client_ids
    )
    trainers = current_trainer_rows(client_ids=client_ids)
    mail_connection = None
    provider = "twilio"
    if campaign.channel == CampaignChannel.EMAIL:
        mail_connection = connection_for("marketing")
        provider = provider_for("marketing")
        mail_connection.open()
    try:
        for delivery_pk, client_id, address in batch:
            client = clients.get(client_id) if client_id else None
            if client is None or client.pk not in reachable:
                Delivery.objects.filter(pk=delivery_pk).update(
                    status="skipped", error="No longer in the audience, or no consent."
                )
                result.skipped += 1
                continue
            limit.wait()
            _mark_attempt(delivery_pk)
            try:
                if campaign.channel == CampaignChannel.EMAIL:
                    assert renderer is not None
                    rows = trainers.get(client.pk) or []
                    message = renderer.email(
                        client, rows[0]["name"] if rows else "", to=address or client.email
                    )
                    message.connection = mail_connection
                    message.send()
                    # An ESP (anymail) reports delivery and bounces by its own message id,
                    # which is what update_delivery looks rows up by; SMTP has only ours.
                    status = getattr(message, "anymail_status", None)
                    provider_id = (status and status.message_id) or message.extra_headers[
                        "Message-ID"
                    ]
                else:
                    provider_id = _send_sms(campaign, client, address)
            except Exception as error:
                Delivery.objects.filter(pk=delivery_pk).update(
                    status="failed", sent_at=None, error=str(error)[:2000]
                )
                result.failed += 1
                continue
            _mark_sent(delivery_pk, provider=provider, provider_id=provider_id)
            result.sent += 1
            if after_send is not None:
                after_send(result.sent)
    finally:
        if mail_connection is not None:
            mail_connection.close()


def _sms_context(client: Client) -> dict[str, str]:
    gym = current_gym()
    return {
        "first_name": client.first_name,
        "last_name": client.last_name,
        "full_name": client.full_name,
        "gym_name": gym.name,
        "trainer_name": "",
        "portal_url": gym_url(gym=gym, path="/portal/"),
        "unsubscribe_url": "",
    }


def sms_sample_text(campaign: Campaign) -> str:
    """The SMS as a typical recipient gets it (for the segment count and cost estimate)."""
    from apps.notifications.templating import render_template

    sample = Client(first_name="Alexandra", last_name="Example")
    return render_template(campaign.body, _sms_context(sample))


def _send_sms(campaign: Campaign, client: Client, address: str) -> str:
    """One campaign SMS through the gym's Messaging Service; Twilio's status callbacks move the
    Delivery row on (apps.notifications.services.update_delivery, by the SID)."""
    from apps.notifications.templating import render_template
    from apps.sms.gateway import send_sms

    return send_sms(
        to=address or client.phone, body=render_template(campaign.body, _sms_context(client))
    )
