"""Model bases several apps share. Abstract only: core has no tables of its own."""

from __future__ import annotations

from django.db import models


class TimeStampedModel(models.Model):
    """When a row was made and last changed (auto_now: every save that writes the row)."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
