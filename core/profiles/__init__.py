"""Mijn profiel: profiles, preferences, consent and purposes, the access log, export and QR share."""
