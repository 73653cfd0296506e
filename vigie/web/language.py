"""Which language a request is answered in, and the scripts' catalogue.

A user's choice (``?lang=en`` on any page, kept in a cookie for a year) wins; then the site
file's ``language``. The choice also holds for the JSON API's messages, so a French page never
shows an English error. The language is set as vigie.i18n's context variable for the request.

A user who switches while logged in has the choice kept on their account too (vigie.accounts.language);
their log-in, on any browser, sets the cookie to it (`apply_account_language`): the account's choice wins
over the site's default, and the cookie alone still serves people not logged in (the public pages).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from vigie.accounts import users
from vigie.accounts.language import choose_language, chosen_language
from vigie.i18n import DEFAULT_LANGUAGE, current_language, known_language, use_language
from vigie.web.context import COOKIE as SESSION_COOKIE

COOKIE = "vigie_lang"
COOKIE_AGE = 365 * 24 * 3600
# The page's language, sent by scripts whose requests carry no cookie (the public report form's Open311 calls).
HEADER = "X-Vigie-Language"


def site_language(site: Any) -> str:
    """The site file's language; without a site file (an app embedded or under test), the process's."""
    if site is None:
        return current_language()
    return known_language(getattr(site, "language", None)) or DEFAULT_LANGUAGE


def request_language(request: Request, site: Any) -> str:
    return (
        known_language(request.query_params.get("lang"))
        or known_language(request.cookies.get(COOKIE))
        or site_language(site)
    )


class RequestLanguage:
    """ASGI middleware: every request runs in its language (vigie.i18n.use_language)."""

    def __init__(self, app: ASGIApp, site: Any = None) -> None:
        self.app = app
        self.site = site
        # read once, when the app is built: its requests run on other threads, which start in the default language
        self.default = site_language(site)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        chosen = (
            known_language(request.query_params.get("lang"))
            or known_language(request.headers.get(HEADER))
            or known_language(request.cookies.get(COOKIE))
        )
        with use_language(chosen or self.default):
            await self.app(scope, receive, send)


def keep_choice(request: Request, response: Any, store: Any, lang: str) -> None:
    """The user pressed FR / EN (``?lang=``): kept in the browser, and on the account of a logged-in user."""
    response.set_cookie(COOKIE, lang, max_age=COOKIE_AGE, path="/", samesite="strict")
    token = request.cookies.get(SESSION_COOKIE)
    user = users.session_user(store, token) if token and store is not None else None
    if user is not None:
        choose_language(store, user, lang)


def apply_account_language(response: Any, store: Any, user: users.User) -> str | None:
    """At log-in: the language the account chose, set as the browser's (None: it never chose, the browser's
    own choice or the site's default stays)."""
    lang = chosen_language(store, user)
    if lang is not None:
        response.set_cookie(COOKIE, lang, max_age=COOKIE_AGE, path="/", samesite="strict")
    return lang


def scripts_catalogue(lang: str, static_dir: Any) -> str:
    """The scripts' messages in `lang` as a script: ``window.VIGIE_I18N = {lang, messages}``.

    Every page asks for it: the file is read and encoded again only when it changed (its modification time)."""
    path = Path(static_dir) / "i18n" / f"{lang}.json"
    try:
        changed = path.stat().st_mtime_ns
    except FileNotFoundError:
        changed = None
    return _catalogue_script(lang, path, changed)


@functools.lru_cache(maxsize=8)
def _catalogue_script(lang: str, path: Path, changed: int | None) -> str:
    messages = json.loads(path.read_text("utf-8")) if changed is not None else {}
    payload = json.dumps({"lang": lang, "messages": messages}, ensure_ascii=False)
    # </ cannot close a script here: it is a separate file, but keep it safe to inline anyway
    return "window.VIGIE_I18N = " + payload.replace("</", "<\\/") + ";\n"
