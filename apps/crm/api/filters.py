"""Query-string filters of the CRM API (django-filter). They narrow what the selectors already
allowed; a bad value is a 400 that names the parameter."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import OrderingFilter

from apps.core.api.filters import StrictBooleanFilter
from apps.crm import selectors
from apps.crm.models import (
    Assignment,
    Client,
    ClientStatus,
    Lead,
    LeadStatus,
    Note,
    NoteKind,
    Trainer,
)


class StableOrderingFilter(OrderingFilter):
    """Ordering with the primary key as the last key, so pages never repeat or skip a row
    when the requested keys tie (many clients join on the same day)."""

    def get_ordering(self, request: Any, queryset: QuerySet[Any], view: Any) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not {"pk", "-pk", "id", "-id"} & set(ordering):
            ordering.append("pk")
        return ordering


@extend_schema_field(
    {"type": "integer", "description": _("Id of a trainer currently assigned to the client.")}
)
class TrainerIdFilter(filters.ModelChoiceFilter):
    """A trainer's id, among the trainers the requesting user may see."""


@extend_schema_field(
    {
        "type": "boolean",
        "description": _(
            "true: clients with a current trainer; false: clients still coming (active, trial, "
            "paused) who have no trainer at the moment, as counted on the owner's home page."
        ),
    }
)
class HasTrainerFilter(StrictBooleanFilter):
    """true/false, documented as a boolean."""


def _visible_trainers(request: Any) -> QuerySet[Trainer]:
    if request is None:  # schema generation
        return Trainer.objects.none()
    return selectors.trainer_list(viewer=request.user)


class ClientFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        after, before = cleaned.get("joined_after"), cleaned.get("joined_before")
        if after and before and after > before:
            self.add_error("joined_before", _("The end of the range is before its start."))
        return cleaned


class ClientFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ClientStatus.choices, help_text=_("Client status."))
    trainer = TrainerIdFilter(
        queryset=_visible_trainers,
        method="filter_trainer",
    )
    tag = filters.CharFilter(method="filter_tag", help_text=_("Clients with this tag."))
    has_trainer = HasTrainerFilter(method="filter_has_trainer")
    joined_after = filters.DateFilter(
        field_name="joined_on", lookup_expr="gte", help_text=_("Joined on or after (YYYY-MM-DD).")
    )
    joined_before = filters.DateFilter(
        field_name="joined_on", lookup_expr="lte", help_text=_("Joined on or before (YYYY-MM-DD).")
    )

    class Meta:
        model = Client
        fields = ("status", "trainer", "tag", "has_trainer", "joined_after", "joined_before")
        form = ClientFilterForm

    def filter_trainer(
        self, queryset: QuerySet[Client], name: str, value: Trainer
    ) -> QuerySet[Client]:
        return queryset.filter(
            Exists(
                Assignment.objects.filter(
                    client=OuterRef("pk"), trainer=value, ends_on__isnull=True
                )
            )
        )

    def filter_has_trainer(
        self, queryset: QuerySet[Client], name: str, value: bool | None
    ) -> QuerySet[Client]:
        if value is None:
            return queryset
        if value:
            return queryset.filter(selectors.has_current_trainer_q())
        return queryset.filter(selectors.without_trainer_q())

    def filter_tag(self, queryset: QuerySet[Client], name: str, value: str) -> QuerySet[Client]:
        # Tags are stored lower-cased; `contains` on the array uses the GIN index.
        return queryset.filter(tags__contains=[value.strip().lower()])


class TrainerFilter(filters.FilterSet):
    is_active = StrictBooleanFilter()

    class Meta:
        model = Trainer
        fields = ("is_active",)


class AssignmentFilter(filters.FilterSet):
    client = filters.NumberFilter(field_name="client_id", help_text=_("Client id."))
    trainer = filters.NumberFilter(field_name="trainer_id", help_text=_("Trainer id."))
    current = StrictBooleanFilter(
        field_name="ends_on",
        lookup_expr="isnull",
        help_text=_("true: assignments still running; false: ended ones (history)."),
    )
    is_primary = StrictBooleanFilter()

    class Meta:
        model = Assignment
        fields = ("client", "trainer", "current", "is_primary")


class NoteFilter(filters.FilterSet):
    client = filters.NumberFilter(field_name="client_id", help_text=_("Client id."))
    kind = filters.ChoiceFilter(choices=NoteKind.choices)

    class Meta:
        model = Note
        fields = ("client", "kind")


class LeadFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=LeadStatus.choices)
    created_after = filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_before = filters.DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = Lead
        fields = ("status", "created_after", "created_before")
