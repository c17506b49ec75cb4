"""Writes for google_health."""

from __future__ import annotations
