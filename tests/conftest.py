"""Shared pytest set-up. Fixtures live in their own modules, listed here."""
pytest_plugins = ["store_fixtures"]
