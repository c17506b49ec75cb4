"""Writes for garmin."""

from __future__ import annotations
