"""URLs of the public host: the platform itself."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from apps.tenants import brand_views, views
from apps.tenants.admin import platform_admin
from apps.tenants.api.views import GymCreateApi

urlpatterns = [
    path("", views.landing, name="landing"),
    path("signup/", views.signup, name="signup"),
    path("favicon.ico", brand_views.favicon, name="favicon"),
    path("brand/style.css", brand_views.stylesheet, name="brand_stylesheet"),
    path("brand/icon.png", brand_views.icon, name="brand_icon"),
    path("health/", include("apps.core.urls")),
    # Stripe's webhook and Connect OAuth redirect: one URL each for every gym.
    path("integrations/stripe/platform/", include("apps.platform_billing.urls_public")),
    path("integrations/stripe/", include("apps.connect.urls_public")),
    # Email providers' tracking webhooks (bounces, complaints) for every gym.
    path("integrations/email/", include("apps.notifications.webhook_urls")),
    # Twilio's delivery reports and inbound texts, for every gym's Messaging Service.
    path("integrations/twilio/", include("apps.sms.urls_public")),
    # Wearable providers' OAuth redirects and webhooks (Strava), for every gym.
    path("integrations/", include("apps.wearables.urls_public")),
    path("admin/", platform_admin.urls),
    path("api/v1/gyms/", GymCreateApi.as_view(), name="api-gym-create"),
    path("api/v1/schema/", SpectacularAPIView.as_view(urlconf=__name__), name="api-schema"),
]
# The API's errors are problem documents here too (/api/v1/gyms/).
handler400 = "apps.core.api.handlers.bad_request"
handler404 = "apps.core.api.handlers.page_not_found"
handler500 = "apps.core.api.handlers.server_error"

# No /media/ here, even in development: every upload is a gym's private file, served only on
# that gym's host by a view that checks who asks (progress photos, imports).
