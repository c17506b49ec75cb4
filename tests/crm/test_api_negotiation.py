"""The client list API's content negotiation (DRF's own)."""

from __future__ import annotations


def test_the_api_answers_json_and_refuses_what_it_cannot_give(api_as):
    owner = api_as("owner")
    assert owner.get("/api/v1/clients/", HTTP_ACCEPT="application/json").status_code == 200
    assert owner.get("/api/v1/clients/", HTTP_ACCEPT="text/csv").status_code == 406
    assert owner.get("/api/v1/clients/", HTTP_ACCEPT="text/csv").status_code == 406
