"""Writes for apple_health."""

from __future__ import annotations
