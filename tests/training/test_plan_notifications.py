"""Assigning a plan tells the client through the notification service, once per plan, after
the commit; a refused assignment tells nobody."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from apps.notifications.models import Delivery
from apps.training import services
from tests.training.conftest import build_template, next_monday

pytestmark = pytest.mark.django_db


def test_the_client_hears_of_their_new_plan(in_a, lib_a, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    template = build_template(in_a.tina.user, lib_a)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        plan = services.plan_assign(
            template=template, client=in_a.ann, start_date=next_monday(), by=in_a.tina.user
        )
    delivery = Delivery.objects.get(kind="plan_assigned")
    assert delivery.event_key == f"plan_assigned:{plan.pk}:c{in_a.ann.pk}"
    assert [m.to for m in mail.outbox] == [[in_a.ann.email]]
    assert "Tina Trainer gave you a new workout plan: Qx Strength Block" in mail.outbox[0].body
    assert "/portal/workouts/" in mail.outbox[0].body


def test_a_refused_assignment_tells_nobody(in_a, lib_a, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    template = build_template(in_a.tina.user, lib_a)
    with pytest.raises(PermissionDenied), django_capture_on_commit_callbacks(execute=True):
        services.plan_assign(
            template=template, client=in_a.bob, start_date=next_monday(), by=in_a.tina.user
        )
    assert not Delivery.objects.filter(kind="plan_assigned").exists()
