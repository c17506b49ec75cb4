"""Dashboard fixtures: the CRM's small business (tests/crm/conftest.py) in gyms A and B."""

from tests.crm.conftest import CrmGym, build_crm_gym, crm_a, crm_b  # noqa: F401
