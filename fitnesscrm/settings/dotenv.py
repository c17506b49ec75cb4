"""Load `.env` into the process environment before any settings module reads it, so values in
`.env` win over the defaults that local.py and test.py set."""

from pathlib import Path

import environ

ENV_FILE = Path(__file__).resolve().parent.parent.parent / ".env"


def load() -> None:
    if ENV_FILE.exists():
        environ.Env.read_env(str(ENV_FILE))
