"""A rule's conditions: a small segment-like filter on clients (status, tags, trainer,
membership status). Stored as JSON on the rule; every key is optional and all given keys must
hold. When apps.campaigns ships saved segments, a rule may point at one instead."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from apps.billing.models import Membership, MembershipStatus
from apps.crm.models import Assignment, Client, ClientStatus, Trainer

KEYS = ("statuses", "tags", "trainer", "membership_statuses")


def conditions_clean(data: dict[str, Any] | None) -> dict[str, Any]:
    """The conditions with empty keys dropped; a ValidationError naming each bad key."""
    data = data or {}
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    unknown = set(data) - set(KEYS)
    for key in unknown:
        errors[key] = [_("Unknown condition.")]
    statuses = [s for s in data.get("statuses") or [] if s]
    if set(statuses) - set(ClientStatus.values):
        errors["statuses"] = [_("Unknown client status.")]
    elif statuses:
        clean["statuses"] = sorted(set(statuses))
    tags = sorted({str(t).strip().lower() for t in data.get("tags") or [] if str(t).strip()})
    if any(len(t) > 40 for t in tags):
        errors["tags"] = [_("A tag has at most 40 characters.")]
    elif tags:
        clean["tags"] = tags
    trainer = data.get("trainer")
    if trainer not in (None, ""):
        try:
            trainer = int(trainer)
        except (TypeError, ValueError):
            trainer = None
        if trainer is None or not Trainer.objects.filter(pk=trainer).exists():
            errors["trainer"] = [_("Choose a trainer of this gym.")]
        else:
            clean["trainer"] = trainer
    memberships = [s for s in data.get("membership_statuses") or [] if s]
    if set(memberships) - set(MembershipStatus.values):
        errors["membership_statuses"] = [_("Unknown membership status.")]
    elif memberships:
        clean["membership_statuses"] = sorted(set(memberships))
    if errors:
        raise ValidationError(errors)
    return clean


def clients_matching(conditions: dict[str, Any], clients: QuerySet[Client] | None = None):  # type: ignore[no-untyped-def]
    """`clients` (all by default) narrowed to those meeting every condition: one query."""
    clients = Client.objects.all() if clients is None else clients
    if conditions.get("statuses"):
        clients = clients.filter(status__in=conditions["statuses"])
    if conditions.get("tags"):
        # Any of the tags (the GIN index on tags answers &&).
        clients = clients.filter(tags__overlap=conditions["tags"])
    if conditions.get("trainer"):
        clients = clients.filter(
            Exists(
                Assignment.objects.filter(
                    client=OuterRef("pk"), trainer_id=conditions["trainer"], ends_on__isnull=True
                )
            )
        )
    if conditions.get("membership_statuses"):
        clients = clients.filter(
            Exists(
                Membership.objects.filter(
                    client=OuterRef("pk"), status__in=conditions["membership_statuses"]
                )
            )
        )
    return clients


def conditions_describe(conditions: dict[str, Any]) -> list[str]:
    """The conditions in words, for the rules list and the run log."""
    parts = []
    if conditions.get("statuses"):
        labels = dict(ClientStatus.choices)
        parts.append(
            _("status is %(values)s")
            % {"values": ", ".join(str(labels.get(s, s)) for s in conditions["statuses"])}
        )
    if conditions.get("tags"):
        parts.append(_("tagged %(values)s") % {"values": ", ".join(conditions["tags"])})
    if conditions.get("trainer"):
        trainer = Trainer.objects.select_related("user").filter(pk=conditions["trainer"]).first()
        parts.append(_("trained by %(name)s") % {"name": trainer or "?"})
    if conditions.get("membership_statuses"):
        labels = dict(MembershipStatus.choices)
        parts.append(
            _("membership is %(values)s")
            % {
                "values": ", ".join(
                    str(labels.get(s, s)) for s in conditions["membership_statuses"]
                )
            }
        )
    return parts
