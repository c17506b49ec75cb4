"""Writes for myfitnesspal."""

from __future__ import annotations
