"""What the CRM holds about a person, for export and erasure (apps.privacy)."""

from __future__ import annotations

from apps.privacy.registry import personal_data

# A client's profile: erased means stripped of everything that names or describes them; the row
# stays so bookings and invoices that point at it keep their (anonymous) history.
personal_data.register(
    "crm.Client",
    user_path="user",
    erase="anonymise",
    anonymise={
        "first_name": "Erased",
        "last_name": "",
        "email": "",
        "phone": "",
        "date_of_birth": None,
        "emergency_contact_name": "",
        "emergency_contact_phone": "",
        "goals": "",
        "health_notes": "",
        "parq_answers": {},
        "tags": [],
        "source": "",
    },
)
personal_data.register("crm.Note", user_path="client__user")
personal_data.register("crm.Consent", user_path="client__user")
personal_data.register("crm.Assignment", user_path="client__user")
personal_data.register("crm.Lead", user_path="client__user")
personal_data.register(
    "crm.Trainer",
    user_path="user",
    erase="anonymise",
    anonymise={"bio": "", "specialties": []},
)
