"""URLs of a gym's host (`<gym>.<BASE_DOMAIN>`)."""

from csp.constants import NONCE
from csp.decorators import csp_update
from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from apps.accounts import lockout_views
from apps.accounts import views as account_views
from apps.imports import views as imports_views
from apps.portal import views as portal_views
from apps.tenants import brand_views


def no_such_endpoint(request: HttpRequest) -> HttpResponse:
    raise Http404


# A problem document under /api/, the page elsewhere.
handler400 = "apps.core.api.handlers.bad_request"
handler404 = "apps.core.api.handlers.page_not_found"
handler500 = "apps.core.api.handlers.server_error"

# Redoc adds <style> elements at run time and parses in a blob worker, without 'unsafe-inline':
# the styles it adds once started carry this response's nonce (js/redoc-init.js); the one it
# adds while loading (its scrollbar's CSS, fixed by the pinned drf-spectacular-sidecar) is
# allowed by its hash. tests/browser/test_identity_csp.py fails if either changes.
REDOC_LOADING_STYLE_HASHES = [
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    # An empty <style> it creates before filling it.
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
]
api_docs = csp_update({"style-src": [NONCE, *REDOC_LOADING_STYLE_HASHES], "worker-src": ["blob:"]})(
    SpectacularRedocView.as_view(url_name="api-schema")
)

api_patterns = [
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.crm.api.urls")),
    path("", include("apps.scheduling.api.urls")),
    path("", include("apps.training.api.urls")),
    path("", include("apps.workouts.api.urls")),
    path("", include("apps.progress.api.urls")),
    path("", include("apps.tenants.api_gym")),
    path("", include("apps.billing.api.urls")),
    path("", include("apps.messaging.api.urls")),
    path("", include("apps.notifications.api.urls")),
    path("", include("apps.wearables.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", api_docs, name="api-docs"),
]

urlpatterns = [
    # First: Django tries patterns in order, and the API (apps, most requests) resolves
    # without walking every page's patterns. No other prefix starts with it.
    path("api/v1/", include(api_patterns)),
    path("", include("apps.dashboard.urls")),
    path("clients/import/", include("apps.imports.urls")),
    path("clients/export.csv", imports_views.client_export, name="client_export"),
    path("", include("apps.crm.urls")),
    path("health/", include("apps.core.urls")),
    path("billing/stripe/", include("apps.connect.urls")),
    path("billing/subscription/", include("apps.platform_billing.urls")),
    path("billing/", include("apps.billing.urls")),
    path("audit/", include("apps.audit.urls")),
    path("privacy/", include("apps.privacy.urls")),
    path("portal/", include("apps.portal.urls")),
    path("calendar/", include("apps.ics_feeds.urls")),
    path("schedule/", include("apps.scheduling.urls")),
    path("settings/sms/", include("apps.sms.urls")),
    path("settings/", include("apps.scheduling.gym_settings.urls")),
    path("training/", include("apps.training.urls")),
    path("workouts/", include("apps.workouts.urls")),
    path("progress/", include("apps.progress.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("", include("apps.automations.urls")),
    path("messages/", include("apps.messaging.urls")),
    path("campaigns/", include("apps.campaigns.urls")),
    path("wearables/", include("apps.wearables.urls")),
    # The portal's web app manifest and service worker live at the root: a worker controls
    # only the paths under its own URL.
    path("manifest.webmanifest", portal_views.manifest, name="portal_manifest"),
    path("sw.js", portal_views.service_worker, name="portal_service_worker"),
    # The gym's identity as files (apps/tenants/brand_views.py).
    path("favicon.ico", brand_views.favicon, name="favicon"),
    path("brand/style.css", brand_views.stylesheet, name="brand_stylesheet"),
    path("brand/logo.png", brand_views.logo, name="brand_logo"),
    path("brand/icon.png", brand_views.icon, name="brand_icon"),
    path("admin/", admin.site.urls),
    path("accounts/handoff/", account_views.handoff, name="account_handoff"),
    path("accounts/lockouts/", lockout_views.lockouts, name="account_lockouts"),
    path("accounts/", include("apps.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    # Phone numbers are a profile field here, not a way to sign in; allauth's phone endpoints
    # also crash (500) on an anonymous DELETE, which the cross-gym matrix test found.
    re_path(r"^_allauth/(?:app|browser)/v1/account/phone(?:/.*)?$", no_such_endpoint),
    path("_allauth/", include("allauth.headless.urls")),
]
