"""The data model's footprint per gym."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_wearables_relations_per_gym(gym_a) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname LIKE 'wearables\\_%%'",
            [gym_a.schema_name],
        )
        (count,) = cursor.fetchone()
    # Nine tables, each with its primary key, its sequence and one index (the unique one, which
    # also serves lookups by client; HealthExport's by client); TOAST tables live in pg_toast, not
    # in the gym's schema.
    assert count == 36, count
