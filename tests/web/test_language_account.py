"""Issue 20: French by default on a French site, and each user may switch; the choice of a logged-in user is
kept on their account and applied at their next log-in, on any browser.

The site here is French (`language: fr`). Through the HTTP API (TestClient): a user switches to English
while logged in, logs in from a fresh client and gets English; another user still gets French; a visitor
not logged in keeps the cookie only. In a real browser (Debian's chromium): the same through the FR / EN
links and the login form, in separate browser contexts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from argon2 import PasswordHasher
from browser_support import browser, new_page, served  # noqa: F401 (fixtures)
from builders import logged_in
from fakes import FakeBlurrer

from vigie.accounts import users
from vigie.accounts.language import chosen_language
from vigie.config import CameraConfig, SiteConfig
from vigie.services import Services
from vigie.store.sqlite import SQLiteStore
from vigie.web.app import create_app
from vigie.web.language import COOKIE as LANG_COOKIE

PW = "correct horse battery"
SITE = SiteConfig(
    language="fr",  # a French site: French until a user switches
    name="Nîmes langue",
    retention_days=20,
    cameras=[CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36, purpose="public safety")],
)


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    store = SQLiteStore(tmp_path)
    store.upsert_cameras(SITE.cameras)
    for name in ("inv", "op"):
        users.create_user(store, name, "investigator" if name == "inv" else "operator", PW)
    yield create_app(Services(store=store, site=SITE, blurrer=FakeBlurrer()))
    store.close()


def page_lang(client, path: str = "/map") -> str:
    r = client.get(path)
    assert r.status_code == 200, r.text
    return re.search(r"<html lang=[\"']([a-z]+)[\"']", r.text).group(1)


def test_a_logged_in_users_switch_is_kept_on_the_account_and_applied_at_the_next_login(app):
    store = app.state.services.store
    first = logged_in(app, "inv", PW)
    assert page_lang(first) == "fr"  # the site's language: no one chose yet
    assert page_lang(first, "/map?lang=en") == "en"
    assert first.cookies.get(LANG_COOKIE) == "en"
    assert chosen_language(store, users.get_user(store, "inv")) == "en"

    # a fresh browser, no cookie: the log-in sets the account's language, every page after it is English
    second = logged_in(app, "inv", PW)
    assert second.cookies.get(LANG_COOKIE) == "en"
    assert page_lang(second) == "en" and page_lang(second, "/search") == "en"

    # another user never chose: the site's French
    other = logged_in(app, "op", PW)
    assert other.cookies.get(LANG_COOKIE) is None
    assert page_lang(other) == "fr"
    assert chosen_language(store, users.get_user(store, "op")) is None

    # switching back to French is kept too
    assert page_lang(second, "/map?lang=fr") == "fr"
    assert page_lang(logged_in(app, "inv", PW)) == "fr"


def test_a_visitor_not_logged_in_keeps_the_choice_in_the_browser_only(app):
    store = app.state.services.store
    visitor = logged_in(app)
    assert page_lang(visitor, "/report") == "fr"
    assert page_lang(visitor, "/report?lang=en") == "en" and page_lang(visitor, "/register") == "en"
    assert visitor.cookies.get(LANG_COOKIE) == "en"
    assert all(chosen_language(store, u) is None for u in users.list_users(store))
    # an unknown language changes nothing, on the browser or the account
    assert page_lang(visitor, "/report?lang=de") == "en"
    visitor.cookies.set(LANG_COOKIE, "xx")
    assert page_lang(visitor, "/report") == "fr"


@dataclass
class Server:
    url: str
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def server(app):
    with served(app) as url:
        yield Server(url)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.timeout(300)
def test_in_the_browser_the_account_language_follows_the_user_to_a_fresh_browser(new_page, server):
    """FR / EN pressed while logged in, in one browser context; a log-in from a fresh context opens in English;
    another user, in a third context, gets the site's French."""
    from browser_support import log_in
    from playwright.sync_api import expect

    page = new_page(None)  # no cookie: the site's language
    log_in(page, "inv", PW, "enquêteur", "/map")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.click("a.lang-link[hreflang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#logout")).to_have_text("Log out")

    fresh = new_page(None)
    fresh.goto("/")
    expect(fresh.locator("html")).to_have_attribute("lang", "fr")  # not logged in yet: the site's French
    log_in(fresh, "inv", PW, "investigator", "/map")
    expect(fresh.locator("html")).to_have_attribute("lang", "en")
    expect(fresh.locator("#logout")).to_have_text("Log out")

    other = new_page(None)
    log_in(other, "op", PW, "opérateur", "/map")
    expect(other.locator("html")).to_have_attribute("lang", "fr")
    expect(other.locator("#logout")).to_have_text("Se déconnecter")
