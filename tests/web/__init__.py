"""Helpers for the web console tests (tests/test_web*.py)."""
