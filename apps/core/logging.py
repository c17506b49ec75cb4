"""Log records carry the request id and the gym schema they happened in."""

from __future__ import annotations

import logging
from contextvars import ContextVar

from django.db import connection

request_id_var: ContextVar[str] = ContextVar("request_id", default="")


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.schema = getattr(connection, "schema_name", "") or ""
        return True
