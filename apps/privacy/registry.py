"""Which models hold personal data, how to find a person's rows in each, and how to erase them.

Each app registers its models in its AppConfig.ready():

    personal_data.register(
        Booking, user_path="client__user", erase="anonymise", anonymise={"note": ""},
    )

Export and erasure (apps.privacy.services) walk this registry, so a model that is registered is
covered by both, and the erasure test fails until it knows how to create a row of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models

EraseMode = Literal["delete", "anonymise"]
# A replacement value: a constant, a query expression (F, Concat...), or a callable that takes the
# row and returns the value (evaluated row by row).
Replacement = Any | Callable[[models.Model], Any]
# The files a model's rows point at (uploaded photos...): (name in the archive, content) pairs.
FilesOf = Callable[[models.Model], Iterable[tuple[str, bytes]]]


@dataclass(frozen=True)
class PersonalDataModel:
    model: type[models.Model]
    user_path: str
    export_fields: tuple[str, ...] | None
    erase: EraseMode
    anonymise: Mapping[str, Replacement] = field(default_factory=dict)
    keep_for_law: bool = False
    files_of: FilesOf | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def rows_of(self, user: models.Model) -> models.QuerySet[Any]:
        """Every row of this model about `user` (in the current schema)."""
        lookup = f"{self.user_path}__pk" if self.user_path else "pk"
        return self.model._base_manager.filter(**{lookup: user.pk}).order_by("pk")

    def fields_to_export(self) -> list[str]:
        if self.export_fields is not None:
            return list(self.export_fields)
        return [f.attname for f in self.model._meta.concrete_fields]


@dataclass(frozen=True)
class _Registration:
    model: type[models.Model] | str
    user_path: str
    export_fields: tuple[str, ...] | None
    erase: EraseMode
    anonymise: Mapping[str, Replacement]
    keep_for_law: bool
    files_of: FilesOf | None


class PersonalDataRegistry:
    def __init__(self) -> None:
        self._registrations: dict[str, _Registration] = {}

    def register(
        self,
        model: type[models.Model] | str,
        *,
        user_path: str,
        export_fields: list[str] | None = None,
        erase: EraseMode = "delete",
        anonymise: dict[str, Replacement] | None = None,
        keep_for_law: bool = False,
        files_of: FilesOf | None = None,
    ) -> None:
        """Register `model` (a class, or an "app_label.Model" label resolved lazily and skipped
        while that model does not exist). `user_path` is the ORM path from the model to the
        user, "" for the user model itself. `files_of(user)` yields the files the person's rows
        point at, which the export puts in the archive next to the rows."""
        if erase not in ("delete", "anonymise"):
            raise ValueError(f"erase must be 'delete' or 'anonymise', not {erase!r}.")
        if erase == "anonymise" and not anonymise and not keep_for_law:
            # A kept record may have nothing to blank beyond its link to the person's
            # (anonymised) record: a membership's dates and status, say.
            raise ValueError("erase='anonymise' needs the fields to overwrite in `anonymise`.")
        if erase == "delete" and anonymise:
            raise ValueError("`anonymise` only applies with erase='anonymise'.")
        if keep_for_law and erase != "anonymise":
            # Records the law makes us keep may never be deleted, only stripped of the person.
            raise ValueError("keep_for_law=True requires erase='anonymise'.")
        key = model.lower() if isinstance(model, str) else model._meta.label_lower
        if key in self._registrations:
            raise ValueError(f"{key} is already registered for personal data.")
        self._registrations[key] = _Registration(
            model=model,
            user_path=user_path,
            export_fields=tuple(export_fields) if export_fields is not None else None,
            erase=erase,
            anonymise=dict(anonymise or {}),
            keep_for_law=keep_for_law,
            files_of=files_of,
        )

    def unregister(self, model: type[models.Model] | str) -> None:
        key = model.lower() if isinstance(model, str) else model._meta.label_lower
        self._registrations.pop(key, None)

    def entries(self) -> list[PersonalDataModel]:
        """Every registered model that exists, sorted by label, its registration checked."""
        found = []
        for registration in self._registrations.values():
            model = registration.model
            if isinstance(model, str):
                try:
                    model = apps.get_model(model)
                except (LookupError, ValueError):
                    continue  # an optional app, or a model not written yet
            entry = PersonalDataModel(
                model=model,
                user_path=registration.user_path,
                export_fields=registration.export_fields,
                erase=registration.erase,
                anonymise=registration.anonymise,
                keep_for_law=registration.keep_for_law,
                files_of=registration.files_of,
            )
            _validate(entry)
            found.append(entry)
        return sorted(found, key=lambda entry: entry.label)


def _validate(entry: PersonalDataModel) -> None:
    """A wrong path or field name must fail loudly, or someone's data would silently survive."""
    opts = entry.model._meta
    target: type[models.Model] = entry.model
    if entry.user_path:
        for name in entry.user_path.split("__"):
            try:
                relation = target._meta.get_field(name)
            except FieldDoesNotExist as error:
                raise ImproperlyConfigured(
                    f"{opts.label}: user_path {entry.user_path!r} has no field {name!r}."
                ) from error
            # Forward relations only, so a person has each row once (no duplicates to dedupe).
            if not (relation.many_to_one or relation.one_to_one) or relation.auto_created:
                raise ImproperlyConfigured(
                    f"{opts.label}: user_path {entry.user_path!r} must follow foreign keys."
                )
            target = relation.related_model  # type: ignore[assignment]
    if target._meta.label_lower != settings.AUTH_USER_MODEL.lower():
        raise ImproperlyConfigured(
            f"{opts.label}: user_path {entry.user_path!r} does not lead to the user model."
        )
    concrete = {f.name for f in opts.concrete_fields} | {f.attname for f in opts.concrete_fields}
    for name in [*entry.anonymise, *(entry.export_fields or ())]:
        if name not in concrete:
            raise ImproperlyConfigured(f"{opts.label}: {name!r} is not a concrete field.")


personal_data = PersonalDataRegistry()
