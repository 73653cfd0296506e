"""The store's SQL for what a user chose for themselves (issue 20): the language of their pages.

Kept apart from the account's security (vigie.accounts.users): a choice of language is not audited, does not
end sessions and needs no transaction with anything else.
"""

from __future__ import annotations


def user_language(store, username: str) -> str | None:
    """The language the user chose ('fr', 'en'), or None (no choice, or no such user)."""
    with store.read() as conn:
        row = conn.execute("SELECT language FROM users WHERE username = ?", (username,)).fetchone()
    return row[0] if row is not None else None


def set_user_language(store, username: str, language: str | None) -> bool:
    """Keep the user's choice (None forgets it); False when there is no such user."""

    def fn(conn):
        return conn.execute("UPDATE users SET language = ? WHERE username = ?", (language, username)).rowcount > 0

    return store.write(fn).result()
