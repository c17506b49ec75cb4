"""Settings shared by every environment. Every value comes from the environment (twelve-factor);
`.env.example` documents each variable. Topic modules are imported at the end."""

from pathlib import Path

import environ

from fitnesscrm.embedded_db import embedded_database_settings
from fitnesscrm.settings import dotenv

dotenv.load()
env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / ".data")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
BASE_DOMAIN = env.str("BASE_DOMAIN", default="localhost")
# Public URL scheme used in links we build for another host (sign-up hand-off, emails).
URL_SCHEME = env.str("URL_SCHEME", default="http")
# Port in links we build outside a request (emails from tasks); empty behind a proxy on 80/443.
PUBLIC_PORT = env.str("PUBLIC_PORT", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[BASE_DOMAIN, f".{BASE_DOMAIN}"])

# --- Database -----------------------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    # The test settings point EMBEDDED_DB_DIR at a server of the suite's own (settings/test.py).
    DATABASES = {
        "default": embedded_database_settings(
            Path(env.str("EMBEDDED_DB_DIR", default=str(DATA_DIR / "pg")))
        )
    }
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# 0 by default: Channels runs consumers' database work in threads that come and go, where
# persistent connections would pile up rather than be reused (Django's docs advise the same).
# Production pools connections instead (settings/production.py).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A connection the server dropped is replaced before a request uses it (with a pool, the pool
# checks each connection it hands out).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis (cache, channel layer, Celery broker) ------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # Not redis-py 8's defaults (channels_redis#422): its 5-second socket timeout
                # cuts the layer's 5-second blocking BZPOPMIN, tearing down every socket of a
                # process that heard nothing for 5 s; its 100 connections per process refuse
                # the 101st concurrent group_add or group_send (sockets opening at once).
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "max_connections": 1000}],
                "prefix": "fitnesscrm",
                # A process's sockets share one Redis inbox (channels-redis keys a consumer's
                # channel by its process), so `capacity` is the whole process's backlog: the
                # default 100 is half a second of bench/messaging.py's load (about 200 events a
                # second a process), past which events are dropped silently. 25,000 holds a
                # minute of 400 a second; the 60-second `expiry` still bounds how late any
                # event may arrive.
                "capacity": 25_000,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Applications and request pipeline ----------------------------------------------------
MIDDLEWARE = [
    # The header middleware comes before the tenant middleware: a response that middleware
    # makes itself (the 404 for an unknown gym host) never passes through the ones below it.
    "django.middleware.security.SecurityMiddleware",
    "apps.core.security.SecurityHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "apps.tenants.middleware.GymTenantMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # request.htmx (apps/core/htmx.py).
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The reader's language on a gym's host: theirs, else the gym's (after authentication).
    "apps.tenants.middleware.GymLanguageMiddleware",
    # After authentication: its 400 page is drawn like any other page.
    "apps.core.middleware.NulCharacterMiddleware",
    "apps.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "apps.accounts.middleware.MfaRequiredMiddleware",
    # A gym whose platform subscription lapsed past its grace period is read-only.
    "apps.platform_billing.middleware.PlatformStandingMiddleware",
    # Last, so a lockout answers before any view runs.
    "axes.middleware.AxesMiddleware",
]

# Request bodies: Django refuses a form or JSON body over DATA_UPLOAD_MAX_MEMORY_SIZE (file parts
# do not count; a progress photo or CSV has its own size check) and spools uploads over
# FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file. The proxy caps the whole body (50 MB in
# docker/Caddyfile).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)

# Threads per web process that run requests (gunicorn.conf.py reads the same variable). Each
# holds at most one database connection at a time, so the production pool is at least this big.
WEB_THREADS = env.int("WEB_THREADS", default=4)

ROOT_URLCONF = "fitnesscrm.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "fitnesscrm.urls_public"
WSGI_APPLICATION = "fitnesscrm.wsgi.application"
ASGI_APPLICATION = "fitnesscrm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "apps.core.context_processors.gym",
                "apps.accounts.context_processors.viewer",
                "apps.platform_billing.context_processors.platform_standing",
            ],
        },
    }
]

# --- Security headers -----------------------------------------------------------------------
from csp.constants import NONCE, NONE, SELF  # noqa: E402

# Strict: no 'unsafe-inline' or 'unsafe-eval' anywhere. Templates keep scripts and styles in
# static files; an inline <script> must carry nonce="{{ request.csp_nonce }}" (the nonce is only
# added to the header on responses that use it). Style attributes are blocked, so use classes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "manifest-src": [SELF],
        "worker-src": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF, f"*.{BASE_DOMAIN}:*", f"{BASE_DOMAIN}:*"],
    }
}
# CORS stays closed unless origins are listed (a partner's web app, say); only the API and the
# headless auth endpoints are ever shared.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/(api|_allauth)/.*$"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Read from the cache (Redis in production), written through to the database. Cache keys carry
# the gym's schema (django_tenants.cache.make_key), so a session key means nothing on another
# gym's host.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Readable by JavaScript on purpose: the allauth headless browser client and HTMX requests send
# it back in the X-CSRFToken header. It is not a secret from the page that embeds it anyway.
CSRF_COOKIE_HTTPONLY = False
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Features nobody here uses are switched off for the pages and any frame in them; `self` keeps
# fullscreen (videos) and passkeys (allauth.mfa WebAuthn) possible on our own origin. Only
# features Chromium recognises on every platform: an unknown one (web-share on Linux) logs an
# error on every page (tests/core/test_rough_edges.py checks the list).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "autoplay": [],
    "camera": [],
    "display-capture": [],
    "encrypted-media": [],
    "fullscreen": ["self"],
    "geolocation": [],
    "gyroscope": [],
    "hid": [],
    "idle-detection": [],
    "local-fonts": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "picture-in-picture": [],
    "publickey-credentials-create": ["self"],
    "publickey-credentials-get": ["self"],
    "screen-wake-lock": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("de", "Deutsch"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- REST API -----------------------------------------------------------------------------
# Reverse proxies of our own in front of the app, each appending to X-Forwarded-For (1 behind
# a load balancer): how far apps.core.client_address reads that header. 0: REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.core.api.authentication.SessionAuthentication",
        # Mobile apps: the session token allauth headless gives an app client at login.
        "allauth.headless.contrib.rest_framework.authentication.XSessionTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        # django-filter's, with booleans that refuse what they cannot read (a 400).
        "apps.core.api.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    # Read-only model fields documented as the model allows (blank, null).
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.errors.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's three, with a JSON parser that answers deep nesting and NUL characters with a 400.
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Counters in the cache (apps/core/api/throttling.py); a 429 carries Retry-After.
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.api.throttling.AnonRateThrottle",
        "apps.core.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_RATE_ANON", default="60/min"),
        "user": env.str("THROTTLE_RATE_USER", default="600/min"),
        # Sign-up, login, password reset, invitations (apps.core.api.throttling.AUTH_SCOPE).
        "auth": env.str("THROTTLE_RATE_AUTH", default="10/min"),
        # The public join form of a gym (apps.crm.views.join), per client IP.
        "join": env.str("THROTTLE_RATE_JOIN", default="10/hour"),
    },
    # Our throttles take the address from apps.core.client_address; any DRF code reading the
    # header itself trusts as many proxies (DRF trusts the whole header when this is None).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FitnessCRM API",
    "DESCRIPTION": "The REST API of a FitnessCRM gym. Every path is relative to the gym's host.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status` field: each choice set is named after its own model.
    "ENUM_NAME_OVERRIDES": {
        "ClientStatusEnum": "apps.crm.models.ClientStatus",
        "LeadStatusEnum": "apps.crm.models.LeadStatus",
        "PaymentKindEnum": "apps.billing.models.PaymentKind",
        "SaleMethodEnum": "apps.billing.api.serializers.SALE_CHOICES",
        "OfflinePaymentKindEnum": "apps.billing.api.serializers.OFFLINE_CHOICES",
        "CreditKindEnum": "apps.billing.models.CreditKind",
    },
    # drf-spectacular's own, then the errors every operation can answer with, documented once.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.document_error_responses",
    ],
}

# --- Encryption at rest (apps.core.fields.EncryptedTextField) -----------------------------
# Fernet keys, newest first. Rotate: prepend a new key, run `manage.py reencrypt_fields`, then
# drop the old key. Required outside DEBUG (system check core.E001).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# --- Email ---------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="FitnessCRM <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The notification service's mail connections as URLs (apps/notifications/email.py documents
# the forms: smtp://, smtps://, anymail+postmark://TOKEN@, ...). Empty: the EMAIL_* settings
# above. Marketing mail (campaigns) goes through MARKETING_EMAIL_URL when it is set.
EMAIL_URL = env.str("EMAIL_URL", default="")
MARKETING_EMAIL_URL = env.str("MARKETING_EMAIL_URL", default="")
# django-anymail's tracking webhooks (/integrations/email/<esp>/tracking/ on the public host):
# the "user:password" the provider is given in the webhook URL (basic auth), and the providers'
# own signing keys where they sign instead.
ANYMAIL = {
    "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="") or None,
    "MAILGUN_WEBHOOK_SIGNING_KEY": env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default="") or None,
}
ANYMAIL = {key: value for key, value in ANYMAIL.items() if value}
# Web push (apps/notifications/push.py): the VAPID key pair (base64url; generate one with
# `vapid --gen` from py-vapid) and the contact the push services may write to.
VAPID_PUBLIC_KEY = env.str("VAPID_PUBLIC_KEY", default="")
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="mailto:admin@localhost")
# How many hours before a booked appointment its client gets a reminder email.
APPOINTMENT_REMINDER_HOURS = env.int("APPOINTMENT_REMINDER_HOURS", default=24)
CLASS_REMINDER_HOURS = env.int("CLASS_REMINDER_HOURS", default=APPOINTMENT_REMINDER_HOURS)

# Progress photos: the largest upload accepted, and the most pixels a decoded image may have
# (a small file that decodes to a huge image is refused before it is decoded).
PROGRESS_PHOTO_MAX_BYTES = env.int("PROGRESS_PHOTO_MAX_BYTES", default=15 * 1024 * 1024)
PROGRESS_PHOTO_MAX_PIXELS = env.int("PROGRESS_PHOTO_MAX_PIXELS", default=50_000_000)

# Messaging (apps.messaging): how long one's own message may be edited or deleted, how long a
# message stays unread before its one reminder, and the largest attachment (picture or PDF).
MESSAGE_EDIT_WINDOW_MINUTES = env.int("MESSAGE_EDIT_WINDOW_MINUTES", default=15)
MESSAGE_NOTIFY_AFTER_MINUTES = env.int("MESSAGE_NOTIFY_AFTER_MINUTES", default=30)
MESSAGE_ATTACHMENT_MAX_BYTES = env.int("MESSAGE_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)

# --- CRM and imports -----------------------------------------------------------------------
# Region (ISO 3166 code) of phone numbers written without a country code: "07700 900123" is
# read as a GB number and stored as +447700900123 (apps.crm.phones).
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="GB").upper()
# Minutes after which an import still queued or running is taken as lost and marked failed by
# apps.imports.tasks.fail_stuck_import_jobs (beat). A task whose worker died is first delivered
# again after CELERY_VISIBILITY_TIMEOUT (and resumes: nothing of it was committed), so this
# is a backstop for a lost message, longer than that timeout.
IMPORT_JOB_TIMEOUT_MINUTES = env.int("IMPORT_JOB_TIMEOUT_MINUTES", default=30)

# --- Stripe (dj-stripe): the platform's account in public, each gym's in its own schema ---
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
STRIPE_TEST_SECRET_KEY = env.str("STRIPE_TEST_SECRET_KEY", default="")
STRIPE_LIVE_SECRET_KEY = env.str("STRIPE_LIVE_SECRET_KEY", default="")
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
# Gyms' payments (apps.connect, apps.billing.stripe_gateway). `connect`: each gym is a Stripe
# Connect account of the platform and every call carries its acct_ id; `direct`: a self-hosted
# instance without Connect takes its gyms' payments with the keys above.
STRIPE_MODE = env.str("STRIPE_MODE", default="connect")
# The Connect application's client id (ca_...), for the OAuth link of Standard accounts.
STRIPE_CONNECT_CLIENT_ID = env.str("STRIPE_CONNECT_CLIENT_ID", default="")
# The signing secret (whsec_...) of the one webhook endpoint, /integrations/stripe/webhook/.
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Direct mode: the gym (subdomain) events go to when they name none in metadata.gym.
STRIPE_DIRECT_GYM = env.str("STRIPE_DIRECT_GYM", default="")
# Where the SDK sends its calls: tests point these at fakes on loopback.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_CONNECT_API_BASE = env.str("STRIPE_CONNECT_API_BASE", default="https://connect.stripe.com")
# Where Stripe's hosted Checkout pages live: the portal's Buy forms are redirected there, and
# CSP's form-action must allow it or the browser stops the redirect.
STRIPE_CHECKOUT_ORIGIN = env.str("STRIPE_CHECKOUT_ORIGIN", default="https://checkout.stripe.com")
STRIPE_BILLING_PORTAL_ORIGIN = env.str(
    "STRIPE_BILLING_PORTAL_ORIGIN", default="https://billing.stripe.com"
)
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)

# --- Twilio (apps.sms): the platform's account; each gym brings its own Messaging Service ---
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
# Also the key Twilio signs its callbacks with (X-Twilio-Signature).
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# Where the SDK sends its calls: tests point it at a fake on loopback (tests/fakes/twilio.py).
TWILIO_BASE_URL = env.str("TWILIO_BASE_URL", default="https://api.twilio.com")
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
# What one SMS segment costs, for the estimate shown before a campaign goes out.
SMS_SEGMENT_PRICE = env.str("SMS_SEGMENT_PRICE", default="0.0079")
SMS_PRICE_CURRENCY = env.str("SMS_PRICE_CURRENCY", default="USD")

# --- Strava (apps.wearables): the platform's one API application, shared by every gym ---
STRAVA_CLIENT_ID = env.str("STRAVA_CLIENT_ID", default="")
STRAVA_CLIENT_SECRET = env.str("STRAVA_CLIENT_SECRET", default="")
# Echoed back by Strava when it validates the webhook subscription (hub.verify_token).
STRAVA_WEBHOOK_VERIFY_TOKEN = env.str("STRAVA_WEBHOOK_VERIFY_TOKEN", default="")
# OAuth pages and the API: tests point it at a fake on loopback (tests/fakes/strava.py).
STRAVA_BASE_URL = env.str("STRAVA_BASE_URL", default="https://www.strava.com")
STRAVA_TIMEOUT_SECONDS = env.float("STRAVA_TIMEOUT_SECONDS", default=10.0)
# The application's read limits (Strava's are per application: one budget for every gym).
STRAVA_RATE_LIMIT_15MIN = env.int("STRAVA_RATE_LIMIT_15MIN", default=100)
STRAVA_RATE_LIMIT_DAILY = env.int("STRAVA_RATE_LIMIT_DAILY", default=1000)

# --- Garmin Connect (apps.wearables): the platform's one consumer key, OAuth 2 with PKCE ---
GARMIN_CLIENT_ID = env.str("GARMIN_CLIENT_ID", default="")
GARMIN_CLIENT_SECRET = env.str("GARMIN_CLIENT_SECRET", default="")
# Consent page (connect.garmin.com), token endpoint (diauth.garmin.com) and the Health API
# (apis.garmin.com): three hosts in production, one fake on loopback in tests.
GARMIN_AUTHORIZE_URL = env.str(
    "GARMIN_AUTHORIZE_URL", default="https://connect.garmin.com/oauth2Confirm"
)
GARMIN_TOKEN_URL = env.str(
    "GARMIN_TOKEN_URL", default="https://diauth.garmin.com/di-oauth2-service/oauth/token"
)
GARMIN_API_BASE_URL = env.str("GARMIN_API_BASE_URL", default="https://apis.garmin.com")
GARMIN_TIMEOUT_SECONDS = env.float("GARMIN_TIMEOUT_SECONDS", default=10.0)

# --- Google Health API (apps.wearables): Fitbit and Pixel data, OAuth 2 with PKCE ---
GOOGLE_HEALTH_CLIENT_ID = env.str("GOOGLE_HEALTH_CLIENT_ID", default="")
GOOGLE_HEALTH_CLIENT_SECRET = env.str("GOOGLE_HEALTH_CLIENT_SECRET", default="")
GOOGLE_HEALTH_AUTHORIZE_URL = env.str(
    "GOOGLE_HEALTH_AUTHORIZE_URL", default="https://accounts.google.com/o/oauth2/v2/auth"
)
GOOGLE_HEALTH_TOKEN_URL = env.str(
    "GOOGLE_HEALTH_TOKEN_URL", default="https://oauth2.googleapis.com/token"
)
GOOGLE_HEALTH_REVOKE_URL = env.str(
    "GOOGLE_HEALTH_REVOKE_URL", default="https://oauth2.googleapis.com/revoke"
)
GOOGLE_HEALTH_API_BASE_URL = env.str(
    "GOOGLE_HEALTH_API_BASE_URL", default="https://health.googleapis.com"
)
# The secret Google's subscriber verification and notifications carry in Authorization.
GOOGLE_HEALTH_WEBHOOK_SECRET = env.str("GOOGLE_HEALTH_WEBHOOK_SECRET", default="")
GOOGLE_HEALTH_TIMEOUT_SECONDS = env.float("GOOGLE_HEALTH_TIMEOUT_SECONDS", default=10.0)
# Google's limit is per user (300 requests a minute).
GOOGLE_HEALTH_RATE_LIMIT_PER_MINUTE = env.int("GOOGLE_HEALTH_RATE_LIMIT_PER_MINUTE", default=300)

# --- Apple Health exports (apps.wearables): uploaded in chunks of at most this size ---
APPLE_HEALTH_CHUNK_BYTES = env.int("APPLE_HEALTH_CHUNK_BYTES", default=8 * 1024 * 1024)
APPLE_HEALTH_MAX_EXPORT_BYTES = env.int(
    "APPLE_HEALTH_MAX_EXPORT_BYTES", default=8 * 1024 * 1024 * 1024
)

from .auth import *  # noqa: E402
from .celery import *  # noqa: E402
from .observability import *  # noqa: E402
from .storage import *  # noqa: E402
from .tenancy import *  # noqa: E402
