"""Fygitaal: the shared citizen-service platform for municipalities."""
