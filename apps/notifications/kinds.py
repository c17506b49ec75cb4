"""Every kind of notification the product sends, in one list a reader can scan.

To add a kind: append a `Kind` to KINDS (a small edit, committed alone) and create its
templates in `templates/notifications/<key>/`:

- `subject.txt`: one line (email subject, in-app and push title);
- `body.txt`: plain text (the email's text part; also in-app, push and SMS unless `sms.txt`
  exists); it `{% extends "email/base.txt" %}` and fills `{% block content %}`;
- `body.html` (optional): `{% extends "email/base.html" %}`; without it the HTML part is the
  text body in the branded layout.

Templates get the caller's context plus `gym` (the current Gym), `recipient_name`, `url`
(absolute) and `brand_colour`. Channels: "in_app", "email", "sms", "push". `audience` says who
may receive it ("client", "staff" or "any"); `mandatory` kinds ignore preferences (account and
security mail); `urgent` kinds ignore quiet hours (something happening within the hour).
`secret` kinds carry a link that lets someone in (an invitation, a set-password link): the caller
puts it in the context as `link`, and the delivery log (which managers read) keeps the message
with that link removed; the real text is held encrypted only until the send is over.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

IN_APP, EMAIL, SMS, PUSH = "in_app", "email", "sms", "push"
CHANNELS: tuple[str, ...] = (IN_APP, EMAIL, SMS, PUSH)
CHANNEL_LABELS: dict[str, Promise] = {
    IN_APP: _("In the app"),
    EMAIL: _("Email"),
    SMS: _("SMS"),
    PUSH: _("Push"),
}


@dataclass(frozen=True)
class Kind:
    key: str
    label: Promise | str
    audience: str  # "client" | "staff" | "any"
    default_channels: tuple[str, ...]
    mandatory: bool = False
    urgent: bool = False
    secret: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.default_channels) - set(CHANNELS)
        if unknown or self.audience not in ("client", "staff", "any"):
            raise ValueError(f"Kind {self.key!r}: bad channels {unknown} or audience")


KINDS: list[Kind] = [
    # Bookings and classes
    Kind("booking_confirmed", _("Booking confirmed"), "client", (IN_APP, EMAIL, PUSH)),
    Kind("waitlist_promoted", _("Spot from the waitlist"), "client", (IN_APP, EMAIL, PUSH, SMS)),
    Kind("class_cancelled", _("Class cancelled"), "client", (IN_APP, EMAIL, PUSH, SMS)),
    # The class started while the client was still on its waitlist: no spot, credit back.
    Kind("waitlist_expired", _("No spot from the waitlist"), "client", (IN_APP, EMAIL, PUSH)),
    Kind("session_reminder", _("Session reminder"), "client", (IN_APP, EMAIL, PUSH, SMS)),
    Kind("class_reminder", _("Class reminder"), "client", (IN_APP, EMAIL, PUSH, SMS)),
    # Billing
    Kind("payment_failed", _("Payment failed"), "client", (IN_APP, EMAIL)),
    # Staff sold something at the desk to be paid online: the client's Stripe Checkout link.
    Kind("payment_link", _("Payment link"), "client", (IN_APP, EMAIL)),
    # Training
    Kind("plan_assigned", _("New workout plan"), "client", (IN_APP, EMAIL, PUSH)),
    # Messaging
    Kind("new_message", _("New message"), "any", (IN_APP, EMAIL, PUSH)),
    # Wearables: a provider revoked our access (the client must connect it again).
    Kind("wearable_disconnected", _("App disconnected"), "client", (IN_APP, EMAIL)),
    # Wearables: staff ask the client to connect a watch or app (once a day at most).
    Kind("wearable_invite", _("Request to connect an app"), "client", (IN_APP, EMAIL)),
    # Staff
    Kind("import_finished", _("Import finished"), "staff", (IN_APP, EMAIL)),
    # A text from a number no client has (apps/sms): a new lead, or a lead writing again.
    Kind("lead_texted", _("Text from a lead"), "staff", (IN_APP, EMAIL, PUSH)),
    # Automations: a gym's own rules (apps/automations) write the text; clients get the channel
    # the rule's step names (SMS only to those who agreed to texts), trainers their preferences.
    Kind("automation_message", _("Message from your gym"), "any", (IN_APP, EMAIL, SMS)),
    # Accounts: the person needs these to get in, so preferences do not switch them off.
    Kind(
        "invitation",
        _("Invitation to join"),
        "any",
        (EMAIL,),
        mandatory=True,
        urgent=True,
        secret=True,
    ),
    Kind(
        "account_welcome",
        _("Your new account"),
        "any",
        (EMAIL,),
        mandatory=True,
        urgent=True,
        secret=True,
    ),
    # Password resets, email confirmations: allauth sends these at once through
    # apps/accounts/adapters.py in the branded layout (not notify(): they carry account keys).
    Kind(
        "account_security",
        _("Sign-in and password"),
        "any",
        (EMAIL,),
        mandatory=True,
        urgent=True,
        secret=True,
    ),
    # Tests and previews of the notification service itself.
    Kind("test", _("Test notification"), "any", (IN_APP, EMAIL, SMS, PUSH), urgent=True),
]

_BY_KEY = {kind.key: kind for kind in KINDS}
if len(_BY_KEY) != len(KINDS):
    raise ValueError("Two kinds share a key")


def get_kind(key: str) -> Kind:
    """The kind named `key`; LookupError for a kind nobody registered."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise LookupError(f"Unknown notification kind {key!r}: add it to KINDS") from None


def kinds_for(audience: str) -> list[Kind]:
    """Kinds a person of this audience ("client" or "staff") can receive, in KINDS' order."""
    return [kind for kind in KINDS if kind.audience in (audience, "any")]
