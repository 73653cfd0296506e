"""The tamper-evident audit log: every login, search, view, export and setting
change, appended to a hash chain keyed with HMAC-SHA-256 (the key outside the
database), whose head is anchored outside the database (anchors.py), and that
`vigie audit verify` rechecks against those anchors.

Kept apart from the analytics so that the web app, the CLI and any later
service record into one chain through one function (vigie.audit.log.append).
"""
