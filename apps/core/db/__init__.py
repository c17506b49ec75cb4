"""The project's database backend (apps/core/db/base.py)."""
