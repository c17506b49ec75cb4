"""Core fixtures: the CRM's small business in gym A and gym B (tests/crm/conftest.py), for the
checks that need people and bookings."""

from tests.crm.conftest import crm_a, crm_b  # noqa: F401
