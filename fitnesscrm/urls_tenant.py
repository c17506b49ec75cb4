"""URLs of a gym's host (`<gym>.<BASE_DOMAIN>`)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from apps.accounts import views as account_views
from apps.core import views as core_views

dashboard_patterns = ([path("", core_views.home, name="home")], "dashboard")

api_patterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("", include(dashboard_patterns)),
    path("health/", include("apps.core.urls")),
    path("admin/", admin.site.urls),
    path("accounts/handoff/", account_views.handoff, name="account_handoff"),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/v1/", include(api_patterns)),
]
