"""Pages of the client list kept in the web process's memory while nothing they show changes.

A page is looked up by who asks (gym, user, role), what they ask for (host, path and query,
media type) and the list version: a number the database bumps in the same transaction as any
write to clients, trainers, assignments or users (migration crm 0003). Reading the version
first and the page after means a remembered page is never older than its version, and a
write, however it is made, moves every reader to a new key once it commits.

Pages hold what the viewer may see, health notes included, so they stay in this process's
memory (never a shared cache), for at most CRM_LIST_CACHE_SECONDS, and at most
CRM_LIST_CACHE_ENTRIES of them (0 turns the cache off).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.conf import settings
from django.db import connection

_pages: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
_lock = threading.Lock()


def enabled() -> bool:
    return settings.CRM_LIST_CACHE_ENTRIES > 0


def list_version() -> int:
    """The current gym's list version: it only grows, once for each committed write."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(version) FROM crm_listversion")
        return int(cursor.fetchone()[0])


def clear() -> None:
    with _lock:
        _pages.clear()


def page(key: tuple[Hashable, ...], build: Callable[[], bytes | None]) -> bytes | None:
    """The remembered page for `key` in the current gym, or what `build` makes (remembered
    unless it is None)."""
    full_key = (connection.schema_name, list_version(), *key)
    now = time.monotonic()
    with _lock:
        found = _pages.get(full_key)
        if found is not None and found[0] > now:
            _pages.move_to_end(full_key)
            return found[1]
    content = build()
    if content is not None:
        with _lock:
            _pages[full_key] = (now + settings.CRM_LIST_CACHE_SECONDS, content)
            _pages.move_to_end(full_key)
            while len(_pages) > settings.CRM_LIST_CACHE_ENTRIES:
                _pages.popitem(last=False)
    return content
