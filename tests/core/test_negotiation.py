"""Content negotiation remembered per Accept header, format and renderers
(apps/core/api/negotiation.py): the same choice as DRF's own, refusals never kept."""

from __future__ import annotations

import pytest
from django.http import Http404
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.core.api import negotiation


class ImageRenderer(BaseRenderer):
    media_type = "image/*"
    format = "image"


RENDERER_SETS = [
    [JSONRenderer],
    [JSONRenderer, ImageRenderer],
    [JSONRenderer, BrowsableAPIRenderer],
]
ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "image/webp,image/*;q=0.8",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
]


@pytest.fixture(autouse=True)
def fresh():
    negotiation.clear()
    yield
    negotiation.clear()


def request_with(accept: str | None, query: str = "") -> Request:
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    return Request(APIRequestFactory().get(f"/api/v1/x/{query}", **headers))


def choose(negotiator, accept, classes, query=""):  # type: ignore[no-untyped-def]
    renderers = [cls() for cls in classes]
    try:
        renderer, media_type = negotiator.select_renderer(request_with(accept, query), renderers)
    except (exceptions.NotAcceptable, Http404) as error:
        return type(error).__name__
    return type(renderer), media_type


@pytest.mark.parametrize("classes", RENDERER_SETS, ids=["json", "json+image", "json+html"])
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=image", "?format=nope"])
def test_the_same_choice_as_drf_the_first_time_and_the_next(classes, accept, query):
    expected = choose(DefaultContentNegotiation(), accept, classes, query)
    remembered = negotiation.RememberedContentNegotiation()
    assert choose(remembered, accept, classes, query) == expected
    assert choose(remembered, accept, classes, query) == expected


def test_a_refusal_is_raised_every_time_and_not_kept():
    remembered = negotiation.RememberedContentNegotiation()
    for _ in range(2):
        assert choose(remembered, "text/csv", [JSONRenderer]) == "NotAcceptable"
    assert negotiation._chosen == {}


def test_only_so_many_choices_are_kept(monkeypatch):
    monkeypatch.setattr(negotiation, "NEGOTIATIONS_KEPT", 3)
    remembered = negotiation.RememberedContentNegotiation()
    for index in range(10):
        choose(remembered, f"application/json; v={index}", [JSONRenderer])
    assert len(negotiation._chosen) == 3
