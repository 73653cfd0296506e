"""Citizen reports: Open311 GeoReport v2, photo sanitising, abuse limits and moderation."""
