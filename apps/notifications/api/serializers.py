"""Shapes of the notification endpoints (apps.notifications.api.views)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.notifications.kinds import CHANNELS
from apps.notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField(help_text=_("Whether it has been read."))

    class Meta:
        model = Notification
        fields = ("id", "kind", "title", "body", "url", "read", "read_at", "created_at")
        read_only_fields = fields

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text=_("Unread notifications."))


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text=_("How many notifications became read."))


class KindChoiceSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    channels = serializers.DictField(
        child=serializers.BooleanField(),
        help_text=_("Channel (in_app, email, sms, push) to on or off."),
    )


class PreferencesSerializer(serializers.Serializer):
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=CHANNELS),
        help_text=_("The channels this person can choose (push needs keys, SMS a number)."),
    )
    kinds = KindChoiceSerializer(many=True)
    quiet_start = serializers.TimeField(allow_null=True, format="%H:%M")
    quiet_end = serializers.TimeField(allow_null=True, format="%H:%M")
    time_zone = serializers.CharField(help_text=_("The zone quiet hours are read in."))


class PreferencesUpdateSerializer(serializers.Serializer):
    kinds = serializers.DictField(
        child=serializers.DictField(child=serializers.BooleanField()),
        required=False,
        help_text=_(
            'Kind to {channel: on/off}, e.g. {"booking_confirmed": {"email": false}}. Kinds and '
            "channels left out keep their current choice."
        ),
    )
    quiet_start = serializers.TimeField(allow_null=True, required=False)
    quiet_end = serializers.TimeField(allow_null=True, required=False)


class PushKeysSerializer(serializers.Serializer):
    p256dh = serializers.CharField(max_length=200)
    auth = serializers.CharField(max_length=64)


class PushSubscriptionSerializer(serializers.Serializer):
    endpoint = serializers.URLField(max_length=1000)
    keys = PushKeysSerializer()


class PushEndpointSerializer(serializers.Serializer):
    # The same URL the subscription gave (a number or other text is refused, not "not found").
    endpoint = serializers.URLField(max_length=1000)


class PushRemovedSerializer(serializers.Serializer):
    removed = serializers.BooleanField()
