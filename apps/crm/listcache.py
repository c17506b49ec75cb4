"""Pages of the client list kept in the web process's memory while nothing they show changes.

A page is looked up by who asks (gym, user, role), what they ask for (host, path and query,
media type) and the `crm_list` data version (apps/core/versions.py): a number the database
bumps in the same transaction as any write to clients, trainers, assignments or users.
Reading the version first and the page after means a remembered page is never older than its
version, and a write, however it is made, moves every reader to a new key once it commits.

Pages hold what the viewer may see, health notes included, so they stay in this process's
memory (never a shared cache), for at most CRM_LIST_CACHE_SECONDS, and at most
CRM_LIST_CACHE_ENTRIES of them (0 turns the cache off).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from apps.core import versions

_pages: versions.Memory[bytes] = versions.Memory(
    versions.CRM_LIST, "CRM_LIST_CACHE_ENTRIES", "CRM_LIST_CACHE_SECONDS"
)


def enabled() -> bool:
    return _pages.enabled()


def list_version() -> int:
    """The current gym's list version: it only grows, once for each committed write."""
    return versions.current(versions.CRM_LIST)


def clear() -> None:
    _pages.clear()


def page(key: tuple[Hashable, ...], build: Callable[[], bytes | None]) -> bytes | None:
    """The remembered page for `key` in the current gym, or what `build` makes (remembered
    unless it is None)."""
    full_key = _pages.key(*key)
    content = _pages.get(full_key)
    if content is None:
        content = build()
        if content is not None:
            _pages.put(full_key, content)
    return content
