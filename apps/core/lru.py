"""A map kept to a number of entries, the least recently used dropped first.

The throttles' leases (apps/core/api/throttling.py) are kept in one, behind the caller's own
lock: a caller often reads and changes an entry as one step.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(OrderedDict[K, V]):
    """An OrderedDict in order of use, oldest first. Not locked: hold a lock around it when
    threads share it."""

    def use(self, key: K) -> V | None:
        """The value for `key`, now the most recently used; None when there is none."""
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def keep(self, key: K, value: V, limit: int) -> None:
        """Keep `value` for `key` as the most recently used, then drop the least recently
        used ones past `limit`."""
        self[key] = value
        self.move_to_end(key)
        while len(self) > limit:
            self.popitem(last=False)
