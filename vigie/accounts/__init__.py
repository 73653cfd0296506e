"""Accounts: users, roles and their permissions, sessions and lock-out, links and approvals.

`roles` is the permission table every entry point (CLI, web app) checks with
`require(role, permission, case_ref, purpose)`; `users` keeps the accounts
(argon2id password hashes, a guessable-password check), authenticates (5
consecutive failures lock an account for 15 minutes), and issues sessions whose
tokens are stored only as SHA-256 digests (8 hours, or 30 minutes unused).
`links` and `passwords`: nobody but its owner sees a password: one-time links
to set one, and changing one's own. `approvals`: a supervisor approves what
opens media to someone (an unblurred view, a media role, a media account's
reset), never their own request. Every login, failed login, logout, account
change, request and decision is appended to the hash-chained audit log in the
same transaction as the change itself. `vigie.cli.accounts` adds
`vigie user add|list|disable|passwd|link|bootstrap`.
"""
