"""A rule's conditions: a segment definition of apps.campaigns (status, tags, trainer,
membership status, and the rest `apps.campaigns.segments` lists), stored as JSON on the rule.
Every key is optional; all given keys must hold. The editor offers the four that matter most
for automations; the others work when set through the admin or a preset."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.billing.models import MembershipStatus
from apps.campaigns.segments import definition_clean
from apps.campaigns.selectors import segment_clients
from apps.crm.models import Client, ClientStatus, Trainer


def conditions_clean(data: dict[str, Any] | None) -> dict[str, Any]:
    """The conditions with empty keys dropped; a ValidationError naming each bad key."""
    return definition_clean(data or {})


def clients_matching(
    conditions: dict[str, Any], clients: QuerySet[Client] | None = None
) -> QuerySet[Client]:
    """`clients` (all by default) narrowed to those meeting every condition: one query.
    Automations are not marketing: consent is each action's business (notify() checks it)."""
    clients = Client.objects.all() if clients is None else clients
    if not conditions:
        return clients
    return clients.filter(pk__in=segment_clients(conditions, marketing_only=False).values("pk"))


def conditions_describe(
    conditions: dict[str, Any], trainers: dict[int, Trainer] | None = None
) -> list[str]:
    """The conditions in words, for the rules list. `trainers` by id saves a query per rule."""
    parts = []
    if conditions.get("status"):
        labels = dict(ClientStatus.choices)
        parts.append(
            _("status is %(values)s")
            % {"values": ", ".join(str(labels.get(s, s)) for s in conditions["status"])}
        )
    if conditions.get("tags"):
        parts.append(_("tagged %(values)s") % {"values": ", ".join(conditions["tags"])})
    if conditions.get("trainer"):
        trainer = (trainers or {}).get(conditions["trainer"])
        if trainers is None:
            trainer = (
                Trainer.objects.select_related("user").filter(pk=conditions["trainer"]).first()
            )
        parts.append(_("trained by %(name)s") % {"name": trainer or "?"})
    if conditions.get("membership_status"):
        labels = dict(MembershipStatus.choices)
        parts.append(
            _("membership is %(values)s")
            % {"values": ", ".join(str(labels.get(s, s)) for s in conditions["membership_status"])}
        )
    return parts
