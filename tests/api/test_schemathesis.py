"""Schemathesis fuzzes every operation of the OpenAPI schema a gym serves at
`/api/v1/schema/`, signed in as each role on the seeded gym (tests/api/conftest.py), with its
default checks: no server error, every status code, content type and body as the schema
documents them.

The schema is generated when this module is imported (Schemathesis makes one test per
operation at collection, before any database exists) by the generator the schema view uses;
test_the_fuzzed_schema_is_the_one_served proves the two are the same document.

Bounded to fit CI: a few deterministic examples per operation (no shrinking, no example
database), the examples and fuzzing phases only. Each operation and role is one test, rolled
back at its end, so nothing one of them changes or deletes reaches the others.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import AcceptedNegativeData, FailureGroup
from schemathesis.generation import GenerationMode

from tests.api.conftest import BASE_URL, ROLE_EMAILS, SCHEMA_PATH, SeededGym

MAX_EXAMPLES = 5

CONFIG = {
    "generation": {
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,
        "no-shrink": True,
        "database": "none",
        # The role's session token is ours; generated ones would only test the
        # authenticators' refusals, which tests/core/test_api_truth.py does.
        "with-security-parameters": False,
    },
    "checks": {
        # Schema-valid is not always valid: an id in the body that names no object, an end
        # before its start, a booking that clashes are refused with a 400 (or 409) problem
        # naming the field, which no OpenAPI schema can foresee. Every other default check
        # stays on.
        "positive_data_acceptance": {"enabled": False},
    },
    "phases": {
        "examples": {"enabled": True},
        "fuzzing": {"enabled": True},
        "coverage": {"enabled": False},
        "stateful": {"enabled": False},
    },
}

# What the run did, per role: printed by tests/api/conftest.py at the end of the session.
STATS: dict[str, Counter] = {}


# What the run did, per role: printed by tests/api/conftest.py at the end of the session.
STATS: dict[str, Counter] = {}

# As the view renders it (lazy translations and decimals become JSON).
SCHEMA = json.loads(
    OpenApiJsonRenderer().render(
        SchemaGenerator(urlconf="fitnesscrm.urls_tenant").get_schema(request=None, public=True),
        renderer_context={},
    )
)
schema = schemathesis.openapi.from_dict(SCHEMA, config=SchemathesisConfig.from_dict(CONFIG))
# Requests go to Django in this process and thread, inside each test's transaction.
schema.app = WSGIHandler()


def test_the_fuzzed_schema_is_the_one_served(seeded_gym: SeededGym) -> None:
    served = seeded_gym.http("owner").get(SCHEMA_PATH, query_string={"format": "json"})
    assert served.status_code == 200
    assert served.json == SCHEMA


def _with_known_id(case: Any, known_ids: dict[str, list[int]]) -> None:
    """Point a positive case's `{id}` at an object the role can see, for two generated ids
    in three: the operation then runs on real data, not only on its 404."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    value = (case.path_parameters or {}).get("id")
    collection = case.path.split("{id}")[0]
    ids = known_ids.get(collection)
    if not ids or not isinstance(value, int) or value % 3 == 0:
        return
    case.path_parameters = {**case.path_parameters, "id": ids[value % len(ids)]}


FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _inexpressible(case: Any) -> bool:
    """A negative case whose body is not an object, to be sent as a form: a form holds fields
    only, so what reaches the API is an empty form (`{}`, valid for a PATCH), not the value
    Schemathesis meant to send. JSON bodies that are not objects are sent and refused."""
    return (
        case.meta is not None
        and case.meta.generation.mode != GenerationMode.POSITIVE
        and (case.media_type or "").startswith(FORM_MEDIA_TYPES)
        and not isinstance(case.body, dict)
    )


def _padded(value: Any) -> bool:
    if isinstance(value, str):
        return value != value.strip()
    if isinstance(value, dict):
        return any(_padded(item) for item in value.values())
    if isinstance(value, list):
        return any(_padded(item) for item in value)
    return False


def _only_trimmed_length(failure: Exception, case: Any) -> bool:
    """Text fields trim leading and trailing whitespace before their length is checked (DRF's
    CharField): a string the schema finds too long only by its padding is accepted, and
    rightly so."""
    return (
        isinstance(failure, AcceptedNegativeData)
        and "violates `maxLength`" in str(failure)
        and _padded(case.body)
    )


@pytest.mark.parametrize("role", [str(role) for role in ROLE_EMAILS])
@schema.parametrize()
# Each example runs inside the test's transaction (`db`), which is what that fixture is for;
# requests through the whole stack take longer than Hypothesis expects of a generator.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_api_matches_its_schema(case: Any, role: str, seeded_gym: SeededGym, db) -> None:
    stats = STATS.setdefault(role, Counter())
    operations = stats.setdefault("_seen", set())  # type: ignore[arg-type]
    operations.add(case.operation.label)
    if _inexpressible(case):
        stats["not sent"] += 1
        return
    _with_known_id(case, seeded_gym.known_ids[role])
    credentials = seeded_gym.credentials[role]
    started = time.monotonic()
    try:
        response = case.call(base_url=BASE_URL, headers=credentials)
    finally:
        stats["requests"] += 1
        stats["milliseconds"] += int((time.monotonic() - started) * 1000)
    stats[f"status {response.status_code}"] += 1
    # As call_and_validate does: the checks that send a request again (without the token,
    # say) send it the same way.
    try:
        case.validate_response(
            response,
            headers=credentials,
            transport_kwargs={"base_url": BASE_URL, "headers": dict(credentials)},
        )
    except FailureGroup as group:
        failures = [
            failure for failure in group.exceptions if not _only_trimmed_length(failure, case)
        ]
        if failures:
            raise
        stats["padded strings accepted"] += 1
