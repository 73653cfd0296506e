"""Alerts: rule events stored for a person to validate or dismiss, and sent on (issue 6)."""
