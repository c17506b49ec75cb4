"""What billing holds about a person, for export and erasure (apps.privacy). Financial records
are kept for the law when a client is erased: they stay linked to the anonymised client, and
what staff wrote about the person goes."""

from __future__ import annotations

from apps.privacy.registry import personal_data

personal_data.register(
    "billing.Payment",
    user_path="client__user",
    erase="anonymise",
    # The card that paid says little, but nothing of it need stay once the person is gone.
    anonymise={"reason": "", "card_brand": "", "card_last4": ""},
    keep_for_law=True,
)
personal_data.register(
    "billing.Membership", user_path="client__user", erase="anonymise", keep_for_law=True
)
personal_data.register(
    "billing.CreditGrant", user_path="client__user", erase="anonymise", keep_for_law=True
)
