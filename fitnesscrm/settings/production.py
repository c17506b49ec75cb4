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

# A connection pool per process (psycopg_pool), shared by the process's request threads
# (WEB_THREADS) and Channels' consumers, so no request opens a connection of its own.
# django-tenants sets search_path again on every connection it takes, so a pooled connection
# never carries another gym's schema. Not for PgBouncer in transaction mode (ARCHITECTURE.md).
# New dicts, not edits of base.py's: a process that imports this module beside other settings
# (a test reading these values) keeps its own database settings as they were.
if env.bool("DB_POOL", default=True):
    _pool = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=max(10, WEB_THREADS + 2)),
        "timeout": env.int("DB_POOL_TIMEOUT", default=10),
    }
    _default = DATABASES["default"]
    DATABASES = {
        **DATABASES,
        "default": {
            **_default,
            # A pool needs 0; CONN_HEALTH_CHECKS (base.py) has the pool check each connection
            # it hands out.
            "CONN_MAX_AGE": 0,
            "OPTIONS": {**_default.get("OPTIONS", {}), "pool": _pool},
        },
    }
