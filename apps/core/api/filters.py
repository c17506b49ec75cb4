"""django-filter for the API, strict: a filter value that cannot be read is a 400 naming the
query parameter, never "no filter" (django-filter's booleans read `?completed=ture` as not
given, and answer with everything; its choices read `?role=` as not given)."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.fields import ChoiceField
from django_filters.rest_framework.filterset import FILTER_FOR_DBFIELD_DEFAULTS


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is an error rather than "no filter"."""

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        lowered = str(value).strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise forms.ValidationError(_("Use true or false."), code="invalid")


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The stock widget reads an unknown value as "not given": pass the raw text through.
        kwargs["widget"] = forms.TextInput
        super().__init__(*args, **kwargs)


class StrictChoiceField(ChoiceField):
    """One of the choices, or the parameter left out; an empty value is an error, as the
    schema's enum says."""

    def clean(self, value: Any) -> Any:
        if value == "":
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": ""}
            )
        return super().clean(value)


class StrictChoiceFilter(filters.ChoiceFilter):
    field_class = StrictChoiceField


STRICT_FILTER_DEFAULTS = deepcopy(FILTER_FOR_DBFIELD_DEFAULTS)
STRICT_FILTER_DEFAULTS[models.BooleanField] = {"filter_class": StrictBooleanFilter}


class FilterSet(filters.FilterSet):
    """The base of the API's filter sets: model booleans get StrictBooleanFilter."""

    FILTER_DEFAULTS = STRICT_FILTER_DEFAULTS

    @classmethod
    def filter_for_lookup(cls, field: models.Field, lookup_type: str) -> tuple[type, dict]:
        filter_class, params = super().filter_for_lookup(field, lookup_type)
        if filter_class is filters.ChoiceFilter:
            filter_class = StrictChoiceFilter
        return filter_class, params


class FilterBackend(filters.DjangoFilterBackend):
    """DjangoFilterBackend whose filter sets made from a view's `filterset_fields` are strict."""

    filterset_base = FilterSet
