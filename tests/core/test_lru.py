"""The map that what a process keeps in memory is kept in (apps/core/lru.py)."""

from __future__ import annotations

from apps.core.lru import LRU


def test_past_the_limit_the_least_recently_used_go_first():
    kept: LRU[str, int] = LRU()
    for index, key in enumerate("abc"):
        kept.keep(key, index, limit=3)
    assert kept.use("a") == 0  # now the most recent
    kept.keep("d", 3, limit=3)
    assert list(kept) == ["c", "a", "d"]
    kept.keep("c", 20, limit=2)
    assert dict(kept) == {"d": 3, "c": 20}


def test_a_missing_key_is_none_and_changes_nothing():
    kept: LRU[str, int] = LRU()
    kept.keep("a", 1, limit=2)
    kept.keep("b", 2, limit=2)
    assert kept.use("z") is None
    assert list(kept) == ["a", "b"]
