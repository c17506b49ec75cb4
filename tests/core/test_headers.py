"""Security headers on every kind of response: an HTML page, an API response, a 404 and a 500,
on the public host and a gym's host."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from apps.core.security import permissions_policy_header
from tests.conftest import ALPHA

pytestmark = pytest.mark.django_db


def csp_directives(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    header = response["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert "'self'" in csp["script-src"]
    for values in csp.values():
        assert "'unsafe-inline'" not in values
        assert "'unsafe-eval'" not in values
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy.split(", ")
    assert "interest-cohort" not in policy


def test_html_page_on_a_gym_host(client_a: Client):
    response = client_a.get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert_security_headers(response)


def test_html_page_on_the_public_host(public_client: Client):
    response = public_client.get("/signup/")
    assert response.status_code == 200
    assert_security_headers(response)


def test_api_response(public_client: Client):
    response = public_client.post("/api/v1/gyms/", {}, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert_security_headers(response)


def test_api_response_on_a_gym_host(client_a: Client):
    response = client_a.get("/api/v1/schema/")
    assert response.status_code == 200
    assert_security_headers(response)


def test_404_page(client_a: Client):
    response = client_a.get("/no-such-page/")
    assert response.status_code == 404
    assert_security_headers(response)


def test_404_for_an_unknown_gym_host():
    """The tenant middleware answers this one itself, before the rest of the stack."""
    response = Client(HTTP_HOST="nosuchgym.localhost").get("/")
    assert response.status_code == 404
    assert_security_headers(response)


def test_500_page(settings):
    settings.PUBLIC_SCHEMA_URLCONF = "tests.core.urls_500"
    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert_security_headers(response)


def test_inline_script_gets_a_nonce_in_the_header(rf):
    """A template that uses the nonce puts it in script-src; one that doesn't, doesn't."""
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse
    from django.template import engines

    template = engines["django"].from_string('<script nonce="{{ request.csp_nonce }}">1</script>')

    def view(request):  # type: ignore[no-untyped-def]
        return HttpResponse(template.render({}, request))

    request = rf.get("/")
    response = CSPMiddleware(view)(request)
    nonce = request.csp_nonce
    assert f'nonce="{nonce}"' in response.content.decode()
    assert f"'nonce-{nonce}'" in csp_directives(response)["script-src"]

    plain = CSPMiddleware(lambda r: HttpResponse("no script"))(rf.get("/"))
    assert not any(v.startswith("'nonce-") for v in csp_directives(plain)["script-src"])


def test_hsts_and_secure_cookies_in_production(settings, client_a: Client):
    settings.SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client = Client(HTTP_HOST=ALPHA.host)
    response = client.get("/accounts/login/", secure=True)
    assert response.status_code == 200
    hsts = response["Strict-Transport-Security"]
    assert hsts.startswith("max-age=31536000; includeSubDomains")
    csrf_cookie = response.cookies["csrftoken"]
    assert csrf_cookie["secure"]
    assert csrf_cookie["samesite"] == "Lax"
    assert_security_headers(response)


def test_session_cookie_is_httponly_and_samesite(client_a: Client):
    from tests.conftest import login

    response = login(client_a, ALPHA.owner_email)
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_production_settings_values():
    """What production.py sets. Importing it only runs the module; the active settings of the
    test run stay as they are."""
    from fitnesscrm.settings import production

    assert production.DEBUG is False
    assert production.SECURE_SSL_REDIRECT is True
    assert production.SECURE_HSTS_SECONDS == 31536000
    assert production.SECURE_HSTS_INCLUDE_SUBDOMAINS is True
    assert production.SESSION_COOKIE_SECURE is True
    assert production.SESSION_COOKIE_HTTPONLY is True
    assert production.CSRF_COOKIE_SECURE is True
    assert production.LANGUAGE_COOKIE_SECURE is True
    assert "pool" in production.DATABASES["default"]["OPTIONS"]
    # The test run's own database settings are untouched (no pool appears under it).
    assert "pool" not in settings.DATABASES["default"].get("OPTIONS", {})


def test_permissions_policy_serialisation():
    assert (
        permissions_policy_header({"camera": [], "fullscreen": ["self", "https://x.example"]})
        == 'camera=(), fullscreen=(self "https://x.example")'
    )


def test_a_per_view_policy_and_an_exemption_still_apply(rf):
    from csp.constants import UNSAFE_INLINE
    from csp.decorators import csp_exempt, csp_update
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    widened = csp_update({"style-src": [UNSAFE_INLINE]})(lambda request: HttpResponse("x"))
    response = CSPMiddleware(widened)(rf.get("/api/v1/docs/"))
    assert "'unsafe-inline'" in csp_directives(response)["style-src"]
    plain = CSPMiddleware(lambda request: HttpResponse("x"))(rf.get("/api/v1/schema/"))
    assert "'unsafe-inline'" not in csp_directives(plain)["style-src"]
    exempt = CSPMiddleware(csp_exempt()(lambda request: HttpResponse("x")))(rf.get("/x/"))
    assert "Content-Security-Policy" not in exempt
