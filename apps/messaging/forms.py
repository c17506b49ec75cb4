from __future__ import annotations

from typing import Any

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.crm.models import Client
from apps.messaging import selectors
from apps.messaging.models import Kind
from apps.messaging.services import MAX_BODY_LENGTH, MAX_TITLE_LENGTH
from apps.scheduling.models import SPOT_STATUSES, ClassOccurrence


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=MAX_BODY_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 1, "placeholder": _("Write a message…")}),
    )
    attachment = forms.FileField(
        label=_("Attach a picture or PDF"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*,application/pdf"}),
    )


class GroupForm(forms.Form):
    """A new group from the staff pages: its people come from a class's attendees or a tag
    (clients the viewer may message only, apps.messaging.selectors) plus chosen colleagues.
    apps.messaging.services.group_create decides."""

    title = forms.CharField(label=_("Name of the group"), max_length=MAX_TITLE_LENGTH)
    kind = forms.ChoiceField(
        label=_("Who is in it"),
        choices=[
            (Kind.CLASS, _("The clients of a class")),
            (Kind.TEAM, _("Clients with a tag (a team)")),
            (Kind.STAFF, _("Staff only")),
        ],
        initial=Kind.CLASS,
        widget=forms.RadioSelect,
    )
    occurrence = forms.ModelChoiceField(
        label=_("Class"),
        queryset=ClassOccurrence.objects.none(),
        required=False,
        empty_label=_("Choose a class"),
        help_text=_("Classes of the last week and the next two weeks."),
    )
    tag = forms.ChoiceField(label=_("Tag"), required=False, choices=())
    users = forms.ModelMultipleChoiceField(
        label=_("Colleagues"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.viewer = viewer
        occurrence = self.fields["occurrence"]
        occurrence.queryset = selectors.group_classes(viewer=viewer)  # type: ignore[attr-defined]
        occurrence.label_from_instance = _class_label  # type: ignore[attr-defined]
        self.fields["tag"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose a tag")),
            *((tag, tag) for tag in selectors.group_tags(viewer=viewer)),
        ]
        users = self.fields["users"]
        users.queryset = selectors.group_colleagues(viewer=viewer)  # type: ignore[attr-defined]
        users.label_from_instance = lambda user: user.get_full_name() or user.email  # type: ignore[attr-defined]
        self.left_out = 0

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        clients: list[Client] = []
        if kind == Kind.CLASS:
            occurrence = data.get("occurrence")
            if occurrence is None:
                self.add_error("occurrence", _("Choose a class."))
            else:
                clients = list(
                    selectors.group_class_clients(viewer=self.viewer, occurrence_id=occurrence.pk)
                )
                booked = occurrence.bookings.filter(status__in=SPOT_STATUSES).count()
                self.left_out = booked - len(clients)
                if not clients:
                    self.add_error(
                        "occurrence", _("Nobody in this class is a client you can message.")
                    )
        elif kind == Kind.TEAM:
            if not data.get("tag"):
                self.add_error("tag", _("Choose a tag."))
            else:
                clients = list(selectors.group_tag_clients(viewer=self.viewer, tag=data["tag"]))
        elif kind == Kind.STAFF and not data.get("users"):
            self.add_error("users", _("Choose at least one colleague."))
        data["clients"] = clients
        return data


def _class_label(occurrence: ClassOccurrence) -> str:
    when = formats.date_format(timezone.localtime(occurrence.starts_at), "D j M, H:i")
    return f"{occurrence.class_type.name} · {when}"
