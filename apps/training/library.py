"""The exercise library FitnessCRM ships (`data/exercises.json`, texts written for this project).

Every gym schema gets it through the `training` data migrations, and new gyms get it with the
rest of the template's rows when their schema is cloned. `library_sync` is idempotent: it
inserts new library exercises and updates changed ones by slug, never touching a gym's own.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.db import transaction

LIBRARY_FILE = Path(__file__).resolve().parent / "data" / "exercises.json"

_FIELDS = (
    "name",
    "aliases",
    "category",
    "primary_muscles",
    "secondary_muscles",
    "equipment",
    "tracking",
    "instructions",
    "cues",
    "licence",
)


@cache
def library_entries() -> tuple[dict[str, Any], ...]:
    """The shipped exercises as dicts, in file order."""
    with LIBRARY_FILE.open(encoding="utf-8") as handle:
        return tuple(json.load(handle))


@transaction.atomic
def library_sync(*, exercise_model: Any = None) -> int:
    """Insert or update the shipped exercises; return how many rows changed. Migrations pass
    their historical model as `exercise_model`."""
    if exercise_model is None:
        from apps.training.models import Exercise

        exercise_model = Exercise
    from apps.training.models import exercise_search_text

    # A historical model from a migration before 0003 has no search column; save() of the real
    # model keeps it, a historical model has no save() of ours, so it is set here.
    has_search = any(f.name == "search_text" for f in exercise_model._meta.get_fields())
    entries = library_entries()
    existing = {e.slug: e for e in exercise_model.objects.filter(is_library=True)}
    changed = 0
    for entry in entries:
        values = {field: entry[field] for field in _FIELDS}
        values["mechanics"] = entry.get("mechanics") or ""
        if has_search:
            values["search_text"] = exercise_search_text(values["name"], values["aliases"])
        row = existing.get(entry["slug"])
        if row is None:
            existing[entry["slug"]] = exercise_model.objects.create(
                slug=entry["slug"], is_library=True, **values
            )
            changed += 1
        elif any(getattr(row, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(row, field, value)
            row.save()
            changed += 1
    for entry in entries:
        row = existing[entry["slug"]]
        parent = existing.get(entry.get("variation_of") or "")
        parent_id = parent.pk if parent else None
        if row.variation_of_id != parent_id:
            row.variation_of_id = parent_id
            row.save(update_fields=["variation_of"])
    return changed
