"""The public URLconf plus a view that fails, for the headers test of the 500 page."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from fitnesscrm.urls_public import urlpatterns as public_urlpatterns


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom (tests.core.urls_500)")


urlpatterns = [*public_urlpatterns, path("boom/", boom)]
