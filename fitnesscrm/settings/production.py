"""Production: HTTPS only, hardened cookies and headers, secrets required from the env."""

from .base import *

DEBUG = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health checks from the platform's load balancer come over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
# HttpOnly and SameSite=Lax for the session cookie, and the CSRF cookie left readable for the
# headless browser client and HTMX, come from base.py.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
URL_SCHEME = "https"
