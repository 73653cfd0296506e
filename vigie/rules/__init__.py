"""Rules: pure functions from tracks to events (issue 6). See base.py for the shared types."""
