"""The cross-gym matrix: every URL of a gym's host, requested on gym B with gym A's credentials
(session cookie and app session token), must refuse or show nothing of B's. The URL list is read
from the tenant URLconf, so every endpoint added later joins the matrix by itself."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.conftest import ALPHA, BRAVO, login

SAMPLE_UUID = str(uuid.UUID(int=1))
ROUTE_CONVERTERS = {"int": "1", "str": "x", "slug": "x", "path": "x/y", "uuid": SAMPLE_UUID}

# Pages anyone may open (login, password reset, invitation links...), so a 200 is expected:
# they must simply show nothing of gym B's private data and not be logged in.
REFUSALS = {301, 302, 400, 401, 403, 404, 405, 409, 410}


def _route_example(route: str) -> str:
    def convert(match: re.Match) -> str:
        converter = match.group(1) or "str"
        return ROUTE_CONVERTERS.get(converter, "x")

    return re.sub(r"<(?:(\w+):)?\w+>", convert, route)


def _regex_example(regex: str) -> str | None:
    text = regex.lstrip("^").rstrip("$").replace("\\Z", "")

    # Named groups: the first alternative if it lists some, else a sample value.
    def group_example(match: re.Match) -> str:
        name, body = match.group(1), match.group(2)
        if re.fullmatch(r"[\w.|-]+", body):  # a list of alternatives: take the first
            return body.split("|")[0]
        return "1" if name in ("pk", "id") or name.endswith("_id") or "\\d" in body else "x"

    text = re.sub(r"\(\?P<(\w+)>([^()]*)\)", group_example, text)
    text = text.replace("/?", "/").replace("\\.", ".").replace("\\-", "-")
    if re.search(r"[()\[\]*+?\\^$|{}]", text):
        return None
    return text


def tenant_paths() -> list[str]:
    paths: set[str] = set()

    def walk(patterns, prefix: str) -> None:  # type: ignore[no-untyped-def]
        for pattern in patterns:
            raw = str(pattern.pattern)
            is_regex = raw.startswith("^") or "(?P<" in raw
            part = _regex_example(raw) if is_regex else _route_example(raw)
            if part is None:
                continue
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + part)
            elif isinstance(pattern, URLPattern):
                paths.add("/" + prefix + part)

    walk(get_resolver("fitnesscrm.urls_tenant").url_patterns, "")
    return sorted(paths)


PATHS = tenant_paths()


def test_the_matrix_covers_the_whole_urlconf():
    assert len(PATHS) > 60
    for expected in ("/api/v1/me/", "/admin/", "/accounts/login/", "/api/v1/users/1/"):
        assert expected in PATHS


@pytest.fixture
def credentials_of_a(db, client_a):  # type: ignore[no-untyped-def]
    login(client_a, ALPHA.owner_email)
    token_response = APIClient(HTTP_HOST=ALPHA.host).post(
        "/_allauth/app/v1/auth/login",
        {"email": ALPHA.owner_email, "password": "correct horse battery staple"},
        format="json",
    )
    return client_a.cookies["sessionid"].value, token_response.json()["meta"]["session_token"]


def _assert_nothing_of_b(response, path: str) -> None:  # type: ignore[no-untyped-def]
    body = response.content.decode(errors="replace") if hasattr(response, "content") else ""
    assert BRAVO.owner_email not in body, f"{path} showed gym B's data"
    if response.status_code in (301, 302):
        location = response["Location"]
        assert "bravo" not in location or location.startswith(
            ("/accounts/", "/admin/login/", f"http://{BRAVO.host}/accounts/")
        ), (path, location)


@pytest.mark.parametrize("path", PATHS)
def test_gym_a_credentials_get_nothing_from_gym_b(path, credentials_of_a, gym_b):
    cookie, token = credentials_of_a

    browser = Client(HTTP_HOST=BRAVO.host)
    browser.cookies["sessionid"] = cookie
    response = browser.get(path)
    assert not response.wsgi_request.user.is_authenticated, path
    _assert_nothing_of_b(response, path)

    app = APIClient(HTTP_HOST=BRAVO.host, HTTP_X_SESSION_TOKEN=token)
    for method in ("get", "post", "delete"):
        response = getattr(app, method)(path, {}, format="json")
        _assert_nothing_of_b(response, path)
        if path.startswith("/api/v1/") and path not in ("/api/v1/schema/", "/api/v1/docs/"):
            assert response.status_code in REFUSALS, (method, path, response.status_code)
