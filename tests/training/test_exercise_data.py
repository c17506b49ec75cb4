"""The shipped exercise library (`apps/training/data/exercises.json`) is well formed: every entry
uses only the fixed vocabulary, slugs and names are unique, variations point at real exercises.
No database needed."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import apps.training
from apps.training.vocabulary import (
    LIBRARY_LICENCE,
    Category,
    Equipment,
    Mechanics,
    Muscle,
    Tracking,
)

DATA_FILE = Path(apps.training.__file__).resolve().parent / "data" / "exercises.json"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEYS = {
    "slug",
    "name",
    "aliases",
    "category",
    "primary_muscles",
    "secondary_muscles",
    "equipment",
    "mechanics",
    "tracking",
    "instructions",
    "cues",
    "variation_of",
    "licence",
}


@pytest.fixture(scope="module")
def entries() -> list[dict[str, Any]]:
    with DATA_FILE.open(encoding="utf-8") as handle:
        data = json.load(handle)
    assert isinstance(data, list)
    return data


def _problems(entries: list[dict[str, Any]], check) -> list[str]:
    """Run `check(entry)` (which returns a list of messages) over all entries."""
    found = []
    for entry in entries:
        found.extend(f"{entry.get('slug')}: {message}" for message in check(entry))
    return found


def test_library_is_big_enough(entries):
    assert len(entries) >= 150


def test_every_entry_has_exactly_the_expected_keys(entries):
    def check(entry):
        if not isinstance(entry, dict):
            return ["not an object"]
        return [f"keys differ: {sorted(set(entry) ^ KEYS)}"] if set(entry) != KEYS else []

    assert _problems(entries, check) == []


def test_slugs_are_unique_kebab_case(entries):
    slugs = [entry["slug"] for entry in entries]
    bad = [slug for slug in slugs if not isinstance(slug, str) or not SLUG_RE.match(slug)]
    assert bad == []
    assert all(len(slug) <= 120 for slug in slugs)
    duplicates = [slug for slug, count in Counter(slugs).items() if count > 1]
    assert duplicates == []


def test_names_are_unique_and_sentence_case(entries):
    names = [entry["name"] for entry in entries]
    assert all(isinstance(name, str) and name.strip() == name and name for name in names)
    assert all(len(name) <= 200 for name in names)
    duplicates = [name for name, count in Counter(n.casefold() for n in names).items() if count > 1]
    assert duplicates == []
    assert [name for name in names if not name[0].isupper() and not name[0].isdigit()] == []


def test_aliases_do_not_collide_with_names(entries):
    owner_of_name = {entry["name"].casefold(): entry["slug"] for entry in entries}

    def check(entry):
        aliases = entry["aliases"]
        if not isinstance(aliases, list) or len(aliases) > 4:
            return ["aliases must be a list of at most 4"]
        found = []
        seen = set()
        for alias in aliases:
            if not isinstance(alias, str) or not alias.strip() or alias.strip() != alias:
                found.append(f"bad alias {alias!r}")
                continue
            key = alias.casefold()
            if key in seen:
                found.append(f"alias {alias!r} repeated")
            seen.add(key)
            if key in owner_of_name:
                found.append(f"alias {alias!r} is the name of {owner_of_name[key]}")
        return found

    assert _problems(entries, check) == []


def test_aliases_are_unique_across_the_library(entries):
    aliases = Counter(alias.casefold() for entry in entries for alias in entry["aliases"])
    assert [alias for alias, count in aliases.items() if count > 1] == []


def test_vocabulary_values_are_valid(entries):
    categories = set(Category.values)
    muscles = set(Muscle.values)
    equipment = set(Equipment.values)
    mechanics = set(Mechanics.values)
    tracking = set(Tracking.values)

    def check(entry):
        found = []
        if entry["category"] not in categories:
            found.append(f"category {entry['category']!r}")
        for field in ("primary_muscles", "secondary_muscles"):
            values = entry[field]
            if not isinstance(values, list) or len(set(values)) != len(values):
                found.append(f"{field} must be a list without repeats")
            found.extend(f"{field} {value!r}" for value in values if value not in muscles)
        if not isinstance(entry["equipment"], list) or not entry["equipment"]:
            found.append("equipment must be a non-empty list")
        elif len(set(entry["equipment"])) != len(entry["equipment"]):
            found.append("equipment repeats a value")
        found.extend(f"equipment {v!r}" for v in entry["equipment"] if v not in equipment)
        if entry["mechanics"] is not None and entry["mechanics"] not in mechanics:
            found.append(f"mechanics {entry['mechanics']!r}")
        if entry["tracking"] not in tracking:
            found.append(f"tracking {entry['tracking']!r}")
        return found

    assert _problems(entries, check) == []


def test_primary_muscles_present_and_disjoint_from_secondary(entries):
    def check(entry):
        found = []
        if not entry["primary_muscles"]:
            found.append("no primary muscle")
        overlap = set(entry["primary_muscles"]) & set(entry["secondary_muscles"])
        if overlap:
            found.append(f"primary and secondary overlap: {sorted(overlap)}")
        return found

    assert _problems(entries, check) == []


def test_variations_point_at_existing_exercises_without_cycles(entries):
    parent = {entry["slug"]: entry["variation_of"] for entry in entries}

    def check(entry):
        target = entry["variation_of"]
        if target is None:
            return []
        if target == entry["slug"]:
            return ["variation of itself"]
        if target not in parent:
            return [f"variation_of {target!r} is not in the library"]
        seen = {entry["slug"]}
        while target is not None:
            if target in seen:
                return ["variation chain loops"]
            seen.add(target)
            target = parent.get(target)
        return []

    assert _problems(entries, check) == []


def test_instructions_and_cues(entries):
    def check(entry):
        found = []
        for field, low, high in (("instructions", 3, 6), ("cues", 2, 4)):
            texts = entry[field]
            if not isinstance(texts, list) or not low <= len(texts) <= high:
                found.append(f"{field} must be a list of {low}-{high} texts")
                continue
            found.extend(
                f"{field} has an empty or untrimmed text"
                for text in texts
                if not isinstance(text, str) or not text.strip() or text.strip() != text
            )
        return found

    assert _problems(entries, check) == []


def test_licence_is_the_library_licence(entries):
    assert {entry["licence"] for entry in entries} == {LIBRARY_LICENCE}


def test_every_category_has_exercises(entries):
    used = Counter(entry["category"] for entry in entries)
    assert [value for value in Category.values if not used[value]] == []


def test_loaded_lifts_track_weight(entries):
    """Barbell and machine strength lifts log weight and reps."""
    loaded = {Equipment.BARBELL, Equipment.MACHINE, Equipment.CABLE, Equipment.SMITH_MACHINE}
    bad = [
        entry["slug"]
        for entry in entries
        if entry["category"] in {Category.STRENGTH, Category.OLYMPIC}
        and set(entry["equipment"]) <= loaded
        and entry["tracking"] != Tracking.WEIGHT_REPS
    ]
    assert bad == []
