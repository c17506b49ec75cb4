"""The wearables REST API for mobile apps."""
