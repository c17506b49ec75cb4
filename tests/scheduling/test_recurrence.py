"""A class series' recurrence rule is checked where it is entered; a rule dateutil cannot read
is a form error, and generating from one already stored is an error message, never a 500."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.scheduling.models import ClassOccurrence, ClassSeries, ClassType, validate_recurrence
from tests.crm.conftest import CrmGym
from tests.scheduling.test_admin import admin  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "rule", ["every Monday and Wednesday", "FREQ=SOMETIMES", "BYDAY=XX", "", "FREQ=WEEKLY;COUNT=x"]
)
def test_rules_dateutil_cannot_read_are_refused(rule: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_recurrence(rule)
    assert "FREQ=WEEKLY;BYDAY=MO,WE" in " ".join(error.value.messages)


def test_a_calendar_rule_is_accepted() -> None:
    validate_recurrence("FREQ=WEEKLY;BYDAY=MO,WE")


def test_the_admin_shows_a_bad_rule_as_a_form_error(crm_a: CrmGym, admin) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        spin = ClassType.objects.create(name="Spin")
    response = admin.post(
        "/admin/scheduling/classseries/add/",
        {
            "class_type": spin.pk,
            "capacity": 12,
            "local_start_time": "18:00",
            "duration_minutes": 45,
            "rrule": "every Monday and Wednesday",
            "starts_on": "2037-01-05",
        },
    )
    assert response.status_code == 200
    assert "FREQ=WEEKLY;BYDAY=MO,WE" in response.content.decode()
    with tenant_context(crm_a.gym):
        assert not ClassSeries.objects.exists()


def test_generating_from_a_stored_bad_rule_is_a_message(crm_a: CrmGym, admin) -> None:  # noqa: F811
    with tenant_context(crm_a.gym):
        spin = ClassType.objects.create(name="Spin")
        series = ClassSeries.objects.create(
            class_type=spin,
            capacity=12,
            local_start_time=time(18),
            duration_minutes=45,
            rrule="FREQ=WEEKLY;BYDAY=MO",
            starts_on=date(2026, 1, 5),
        )
        # Stored before rules were checked: update() skips validation.
        ClassSeries.objects.filter(pk=series.pk).update(rrule="every Monday and Wednesday")
    response = admin.post(
        "/admin/scheduling/classseries/",
        {"action": "generate", ACTION_CHECKBOX_NAME: [series.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "FREQ=WEEKLY;BYDAY=MO,WE" in response.content.decode()
    with tenant_context(crm_a.gym):
        assert not ClassOccurrence.objects.exists()
