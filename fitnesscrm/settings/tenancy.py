"""Which app lives where. Decided once: moving an app between the lists later is a manual
migration. Auth, sessions, admin, allauth and axes are in BOTH lists so users, sessions and
lockouts are per gym and platform operators have their own tables in public."""

import os

# Apps whose tables exist in public *and* in every gym schema.
_PER_SCHEMA_APPS = [
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "django.contrib.messages",
    "apps.accounts",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "allauth.usersessions",
    "axes",
    "apps.core",
    "apps.audit",
    "apps.privacy",
]

SHARED_APPS = [
    # Our command overrides (migrate, create_gym) must come before django_tenants' own.
    "apps.tenants",
    "django_tenants",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_celery_beat",
    "channels",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    # The platform's own Stripe account only: gyms bill through Stripe Connect (apps.billing),
    # and dj-stripe's ~560 relations would otherwise be repeated in every gym schema.
    "djstripe",
    # Gyms' Stripe connected accounts and the webhook inbox: the public lookup that routes
    # each Stripe event to its gym.
    "apps.connect",
    # The platform billing its gyms (a subscription row per gym, read on every gym request).
    "apps.platform_billing",
    # Gyms' Twilio Messaging Services: the public lookup that routes each Twilio callback
    # (inbound SMS, delivery reports) to its gym.
    "apps.sms",
    # Wearable providers' accounts: the public lookup that routes their webhooks to a gym.
    "apps.wearables.routing",
    # No models: the `seed_demo` command.
    "apps.demo",
    *_PER_SCHEMA_APPS,
]

TENANT_APPS = [
    *_PER_SCHEMA_APPS,
    # The gym's business: only in gym schemas.
    "apps.crm",
    "apps.imports",
    "apps.dashboard",
    "apps.portal",
    "apps.scheduling",
    "apps.ics_feeds",
    "apps.training",
    "apps.workouts",
    "apps.progress",
    "apps.billing",
    "apps.campaigns",
    "apps.automations",
    "apps.messaging",
    # One notification service: in-app centre, email, SMS, web push, the delivery log.
    "apps.notifications",
    "apps.wearables",
]

INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Gym"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# Set search_path only when the tenant changes: avoids one SET per query.
TENANT_LIMIT_SET_CALLS = True
# New gyms are cloned from this schema, which `manage.py migrate` keeps current.
TENANT_BASE_SCHEMA = "gym_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Gym schemas cloned ahead of time so sign-up only renames one (refilled by a periodic task and
# by `migrate`). 0 turns the pool off: every sign-up clones the template.
TENANT_SPARE_SCHEMAS = int(os.environ.get("TENANT_SPARE_SCHEMAS", "3"))
# The platform billing its gyms through its own Stripe account (apps.platform_billing). Off for
# `make run` and self-hosted instances: no trial, no banner, nothing read-only.
PLATFORM_BILLING = os.environ.get("PLATFORM_BILLING", "off").lower() in ("on", "true", "1", "yes")
PLATFORM_BILLING_TRIAL_DAYS = int(os.environ.get("PLATFORM_BILLING_TRIAL_DAYS", "14"))
# Days between a lapse (failed renewal, cancellation, trial ended unpaid) and read-only.
PLATFORM_BILLING_GRACE_DAYS = int(os.environ.get("PLATFORM_BILLING_GRACE_DAYS", "14"))
# The platform's share of each Connect payment a gym takes, in percent ("0" for none).
PLATFORM_APPLICATION_FEE_PERCENT = os.environ.get("PLATFORM_APPLICATION_FEE_PERCENT", "0")
# The signing secret of the platform account's own webhook endpoint
# (/integrations/stripe/platform/webhook/), not the Connect endpoint's.
PLATFORM_STRIPE_WEBHOOK_SECRET = os.environ.get("PLATFORM_STRIPE_WEBHOOK_SECRET", "")
# Hosts that are not a gym (a load balancer's health probe by IP, say) get the public site.
SHOW_PUBLIC_IF_NO_TENANT_FOUND = True
TENANT_MULTIPROCESSING_MAX_PROCESSES = 4

# Subdomains a gym may never take.
RESERVED_SUBDOMAINS = frozenset(
    {
        "www",
        "admin",
        "api",
        "public",
        "static",
        "media",
        "app",
        "mail",
        "smtp",
        "ftp",
        "ws",
        "assets",
        "cdn",
        "status",
        "help",
        "support",
        "docs",
        "blog",
        "billing",
        "integrations",
        "health",
        "signup",
        "login",
        "accounts",
        "dashboard",
        "portal",
        "demo-template",
        "gym-template",
    }
)
