"""Accounts: users, roles and their permissions, sessions and lock-out.

`roles` is the permission table every entry point (CLI, the coming web app)
checks with `require(role, permission, case_ref, purpose)`; `users` keeps the
accounts (argon2id password hashes), authenticates (5 consecutive failures
lock an account for 15 minutes), and issues sessions whose tokens are stored
only as SHA-256 digests. Every login, failed login, logout and account change
is appended to the hash-chained audit log in the same transaction as the
change itself. `commands` adds `vigie user add|list|disable|passwd|bootstrap`.
"""
