"""The records never stand in the way of removing a person: the in-app entries go with them,
the delivery log keeps its rows without the link to the account (apps.privacy's erasure also
empties their address and words: tests/privacy/test_services.py)."""

from __future__ import annotations

from apps.notifications.models import Delivery, Notification
from apps.notifications.services import notify


def test_deleting_a_user_keeps_the_log_and_drops_their_centre(people) -> None:
    notify(
        kind="test",
        recipient=people.tess,
        context={},
        event_key="gone:1",
        channels=["in_app", "email"],
    )
    assert Notification.objects.filter(recipient=people.tess).count() == 1
    people.tess.delete()
    assert not Notification.objects.exists()
    assert Delivery.objects.count() == 2
    assert set(Delivery.objects.values_list("recipient_user", flat=True)) == {None}
