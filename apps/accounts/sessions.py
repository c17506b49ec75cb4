"""Sessions as Django's cached_db keeps them (the cache, written through to the database), and
also in the web process's memory while the `auth` data version stays the same.

The database bumps that version in the same transaction as any write to sessions or users
(accounts 0004), so a session that is changed, cycled at login or ended at logout, in any
process, is read afresh by the next request anywhere. Kept at most AUTH_CACHE_SECONDS, and no
longer than the session's own expiry when it has one; AUTH_CACHE_ENTRIES of them at most (0
turns this off). The key carries the gym's schema, as the cache's does.

    SESSION_ENGINE = "apps.accounts.sessions"
"""

from __future__ import annotations

import pickle
from typing import Any

from django.contrib.sessions.backends import cached_db

from apps.core import versions

# Pickled session data: each request gets its own copy to change.
_sessions: versions.Memory[bytes] = versions.Memory(
    versions.AUTH, "AUTH_CACHE_ENTRIES", "AUTH_CACHE_SECONDS"
)


def clear() -> None:
    _sessions.clear()


class SessionStore(cached_db.SessionStore):
    def load(self) -> dict[str, Any]:
        session_key = self.session_key
        if session_key is None or not _sessions.enabled():
            return super().load()
        key = _sessions.key(session_key)
        kept = _sessions.get(key)
        if kept is not None:
            return pickle.loads(kept)  # noqa: S301 (our own bytes, made below)
        data = super().load()
        # The database store forgets the key of a session it did not find.
        if data and self.session_key == session_key:
            # Its own expiry when it has one (from the data: the session is not loaded yet).
            expiry = data.get("_session_expiry")
            seconds = self.get_expiry_age(expiry=expiry) if expiry is not None else None
            _sessions.put(key, pickle.dumps(data, pickle.HIGHEST_PROTOCOL), seconds=seconds)
        return data
