"""A user's language (issue 20): French by default on a French site, and each user may switch.

The FR / EN switch keeps the choice in the browser (a cookie) for everyone, and on the account of a user
who is logged in, so that their next log-in, on any browser, opens in it. The account's choice wins over
the site file's language; a user who never chose gets the site's.
"""

from __future__ import annotations

from vigie.accounts.users import AccountError, User
from vigie.i18n import _, known_language
from vigie.store import user_settings


def chosen_language(store, user: User) -> str | None:
    """The language the user chose while logged in, or None (they never did: the site's applies)."""
    return known_language(user_settings.user_language(store, user.username))


def choose_language(store, user: User, code: str) -> str:
    """Keep `code` ('fr', 'en', or a locale such as 'fr-FR') on the user's account; returns the language kept."""
    lang = known_language(code)
    if lang is None:
        raise AccountError(_("unknown language {code}: choose fr or en", code=repr(code)))
    if not user_settings.set_user_language(store, user.username, lang):
        raise AccountError(_("no user named {username}", username=repr(user.username)))
    return lang
