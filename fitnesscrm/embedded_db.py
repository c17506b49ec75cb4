"""Embedded PostgreSQL for newcomers: used only when no DATABASE_URL is set.

The server (from the ``pgserver`` package, which ships PostgreSQL binaries) keeps running after
the process that started it exits, so ``runserver`` reloads, Celery and the test run share it.
"""

from __future__ import annotations

from pathlib import Path

DATABASE_NAME = "fitnesscrm"


def embedded_database_settings(data_dir: Path) -> dict[str, str]:
    """Start (or reuse) the embedded server under ``data_dir`` and return Django connection args."""
    import pgserver  # imported lazily: production never needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir / "pg", cleanup_mode=None)
    info = server.get_postmaster_info()
    # DATABASE_NAME is a constant of this module, not input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{DATABASE_NAME}";')
    return {
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port or ""),
    }
