"""The tamper-evident audit log: every login, search, view, export and setting
change, appended to a SHA-256 hash chain that `vigie audit verify` rechecks.

Kept apart from the analytics so that the web app, the CLI and any later
service record into one chain through one function (vigie.audit.log.append).
"""
