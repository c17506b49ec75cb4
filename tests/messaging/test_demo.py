from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.messaging.demo import seed_messages
from apps.messaging.models import Message
from apps.messaging.selectors import unread_conversation_count

pytestmark = pytest.mark.django_db


def test_demo_messages_fill_the_inbox_once(crm_a):
    with tenant_context(crm_a.gym):
        seeded = seed_messages(owner=crm_a.owner)
        assert seeded["messages"] == Message.objects.count() >= 1
        assert unread_conversation_count(viewer=crm_a.desk) >= 1
        assert seed_messages(owner=crm_a.owner) == {"conversations": 0, "messages": 0}
