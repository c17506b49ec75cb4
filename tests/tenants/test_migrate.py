from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_migrate_skips_gyms_with_nothing_to_apply(gym_a, gym_b):
    out = io.StringIO()
    call_command("migrate", interactive=False, verbosity=1, stdout=out)
    text = out.getvalue()
    assert "with migrations to apply, " in text
    assert " 0 with migrations to apply" in text
