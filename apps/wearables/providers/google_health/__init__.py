"""Fitbit and Pixel data through the Google Health API (OAuth 2 with PKCE, subscriber
notifications)."""
