"""Garmin Connect (OAuth 2 with PKCE, push and ping deliveries)."""
