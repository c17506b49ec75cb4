"""Core holds concepts several apps share. No models yet; the app is installed in every schema
so later shared models (audit events, idempotency keys) land there without moving apps."""
