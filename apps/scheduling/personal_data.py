"""What scheduling holds about a person, for export and erasure (apps.privacy)."""

from __future__ import annotations

from apps.privacy.registry import personal_data

# The sessions stay (a trainer's history, later invoices); what was written about the person
# in them goes.
personal_data.register(
    "scheduling.Appointment",
    user_path="client__user",
    erase="anonymise",
    anonymise={"notes": "", "video_link": ""},
)

# Class bookings are about the person only: erasure deletes them.
personal_data.register("scheduling.ClassBooking", user_path="client__user")

# Strikes (late cancels, no-shows) and why one was waived are about the person: erasure
# deletes them with the person's other booking history.
personal_data.register("scheduling.Strike", user_path="client__user")
