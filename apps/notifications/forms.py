from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.dates import validate_date_in_range
from apps.notifications.kinds import CHANNEL_LABELS, EMAIL, IN_APP, PUSH, SMS, Kind, kinds_for
from apps.notifications.models import Channel, DeliveryStatus, Preference
from apps.notifications.services import channel_enabled

# The kinds a person chooses channels for (account mail and tests are not a choice).
HIDDEN_KINDS = ("test",)


def _field_name(kind: Kind, channel: str) -> str:
    return f"{kind.key}__{channel}"


class PreferenceForm(forms.Form):
    """A row per kind, a checkbox per channel, and quiet hours."""

    quiet_start = forms.TimeField(
        label=_("Quiet from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    def __init__(
        self,
        *args: Any,
        user: Any,
        preference: Preference | None,
        client: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        audience = "client" if client is not None or user.role == "client" else "staff"
        self.kinds = [
            kind
            for kind in kinds_for(audience)
            if not kind.mandatory and kind.key not in HIDDEN_KINDS
        ]
        from apps.notifications import push

        # Push only where the installation has VAPID keys; texts for people with a number.
        self.channels = [IN_APP, EMAIL]
        if push.is_configured():
            self.channels.append(PUSH)
        if (client and client.phone) or user.phone:
            self.channels.append(SMS)
        stored = preference.channels if preference else {}
        for kind in self.kinds:
            for channel in self.channels:
                key = f"{kind.key}:{channel}"
                if channel == SMS and key not in stored:
                    initial = bool(
                        client is not None and client.notify_by_sms and SMS in kind.default_channels
                    )
                else:
                    initial = channel_enabled(kind, channel, preference)
                self.fields[_field_name(kind, channel)] = forms.BooleanField(
                    label=f"{kind.label}: {CHANNEL_LABELS[channel]}",
                    required=False,
                    initial=initial,
                )
        if preference is not None:
            self.initial.setdefault("quiet_start", preference.quiet_start)
            self.initial.setdefault("quiet_end", preference.quiet_end)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "kind": kind,
                "cells": [(channel, self[_field_name(kind, channel)]) for channel in self.channels],
            }
            for kind in self.kinds
        ]

    def channel_labels(self) -> list[Any]:
        return [CHANNEL_LABELS[channel] for channel in self.channels]

    def choices(self) -> dict[str, bool]:
        """Every choice that differs from the default, and every SMS choice (see services)."""
        chosen: dict[str, bool] = {}
        for kind in self.kinds:
            for channel in self.channels:
                value = bool(self.cleaned_data.get(_field_name(kind, channel)))
                if channel == SMS or value != channel_enabled(kind, channel, None):
                    chosen[f"{kind.key}:{channel}"] = value
        return chosen


class DeliveryFilterForm(forms.Form):
    recipient = forms.CharField(label=_("Recipient"), required=False, max_length=100)
    kind = forms.CharField(label=_("Kind"), required=False, max_length=64)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("Any")), *list(Channel.choices)]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *list(DeliveryStatus.choices)]
    )
    since = forms.DateField(
        label=_("From"),
        required=False,
        validators=[validate_date_in_range],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        label=_("To"),
        required=False,
        validators=[validate_date_in_range],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
