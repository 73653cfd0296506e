"""What every browser test module shares: Debian's chromium under Playwright, the app served by uvicorn
in a thread, fresh pages that fail the test on a script error or a request to another host, the login
form, and the README's screenshots.

Playwright never downloads a browser of its own: `make setup` installs Debian's chromium (as root); the
tests skip, saying so, where it is missing. The fixtures `browser` and `new_page` reach every module of
tests/web through its conftest.py; a module defines its own `server` fixture (a `Server`, or anything with
`url` and `requests`), most often as
    with vigie_store(data) as store:
        ...seed the store...
        with served(vigie_app(store, site, blurrer, ACCOUNTS)) as url:
            yield Server(url, store, track=...)
or takes the analysed demo's, served with one account per role of DEMO_ACCOUNTS, on its own copy of the demo:
    from browser_support import demo_data, demo_server  # noqa: F401 (fixtures: demo_data, server)"""

from __future__ import annotations

import functools
import re
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from builders import DEMO_CAMERA, DEMO_SITE, REPO_ROOT, copy_data_dir

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
LOCAL_HOSTS = {"127.0.0.1"}
PAGE_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            f"Debian's chromium is not installed at {CHROMIUM}: run `make setup` as root "
            "(it runs `apt-get install chromium fonts-dejavu-core`)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: run `make setup` (pip install -e '.[dev]')")
    pw = sync_playwright().start()
    try:
        # Debian's binary, never one of Playwright's own downloads.
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    except Exception as exc:  # noqa: BLE001 - a broken install: say so rather than fail every test
        pw.stop()
        pytest.skip(
            f"{CHROMIUM} does not start under Playwright ({str(exc).splitlines()[0]}): "
            "reinstall it with `make setup` as root"
        )
    try:
        yield b
    finally:
        b.close()
        pw.stop()


class Server(SimpleNamespace):
    """What a module's `server` fixture yields: the base URL, the store, what the module seeded (by name, e.g.
    track=...), and every URL any page asked for (new_page records them)."""

    def __init__(self, url: str, store, **seeded):
        super().__init__(url=url, store=store, requests=[], **seeded)


@contextmanager
def vigie_store(data: Path):
    """A SQLiteStore on `data`, which VIGIE_DATA names as `vigie serve` would have it, with argon2 at its cheapest
    (the tests log in dozens of times); closed, and the environment restored, on leaving."""
    from argon2 import PasswordHasher

    from vigie.accounts import users
    from vigie.store.sqlite import SQLiteStore

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VIGIE_DATA", str(data))
        mp.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        store = SQLiteStore(data)
        try:
            yield store
        finally:
            store.close()


def vigie_app(store, site, blurrer, accounts: dict[str, tuple[str, str]]):
    """The app over `store` and `site`, with one account per role of `accounts` (role -> (name, password))."""
    from vigie.accounts import users
    from vigie.services import Services
    from vigie.web.app import create_app

    for role, (name, password) in accounts.items():
        users.create_user(store, name, role, password)
    return create_app(Services(store=store, site=site, blurrer=blurrer))


@contextmanager
def served(app, name: str = "vigie-uvicorn"):
    """Serve the app with uvicorn in a thread on a free 127.0.0.1 port; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # the kernel picks a free port; uvicorn serves on this very socket
    sock.listen(64)
    # As `vigie serve` runs it: X-Forwarded-* are Vigie's to judge (vigie.web.proxy), never uvicorn's.
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", proxy_headers=False))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not srv.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        srv.should_exit = True
        thread.join(15)
        sock.close()


# --- the analysed demo, served -------------------------------------------------------------------------------
# One account per role of the demo's server; the passwords meet the policy (12 characters or more).
DEMO_ACCOUNTS = {
    "investigator": ("inv", "investigator-pass-1"),
    "operator": ("op", "operator-pass-123"),
    "auditor": ("aud", "auditor-pass-1234"),
    "admin": ("adm", "admin-pass-12345"),
    "supervisor": ("sup", "supervisor-pass-12"),
}


@pytest.fixture(scope="module")
def demo_data(adapted_demo, tmp_path_factory) -> Path:
    """The module's own copy of the adapted demo (tests/web/conftest.py `adapted_demo`): its server writes to it
    (accounts, sessions, audit, holds, exports), so no two modules share one."""
    return copy_data_dir(adapted_demo, tmp_path_factory.mktemp("browser-demo"))


@pytest.fixture(scope="module", name="server")
def demo_server(demo_data):
    """The app over the module's copy of the adapted demo, with the real Blurrer, the demo site and one account
    per role of DEMO_ACCOUNTS. Besides url, store and requests: `red_track`, the best "person, upper red" track
    on the esplanade (the demo's query), `data` and `site`."""
    from vigie.config import load_site
    from vigie.privacy.blur import Blurrer
    from vigie.search.engine import search
    from vigie.search.query import parse_query

    site = load_site(DEMO_SITE)
    with vigie_store(demo_data) as store:
        app = vigie_app(store, site, Blurrer(), DEMO_ACCOUNTS)
        hits = search(
            store, parse_query({"classes": ["person"], "upper": ["red"], "cameras": [DEMO_CAMERA], "limit": 1})
        ).hits
        assert hits, "the analysed demo has no person in red on the esplanade"
        with served(app) as url:
            yield Server(url, store, data=demo_data, site=site, red_track=hits[0].track_id)


@pytest.fixture
def new_page(browser, server):
    """new_page(lang="en") -> a Playwright page in a fresh context (its own cookies and session storage).

    The page's language is the user's choice, as the FR / EN switch keeps it (the vigie_lang cookie): English
    by default, which the suite's assertions read; lang="fr" for the French pages (a browser in French), and
    lang=None for the site file's language. Every request is recorded in server.requests; an uncaught script
    error in any page, or a request to another host, fails the test.
    """
    contexts, errors = [], []

    def make(lang: str | None = "en"):
        ctx = browser.new_context(
            viewport=VIEWPORT,
            base_url=server.url,
            locale="fr-FR" if lang == "fr" else "en-GB",
            timezone_id="Europe/Paris",
        )
        if lang:
            ctx.add_cookies([{"name": "vigie_lang", "value": lang, "url": server.url}])
        ctx.on("request", lambda req: server.requests.append(req.url))
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda exc, p=page: errors.append(f"{p.url}: {exc}"))
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        return page

    start = len(server.requests)
    yield make
    for ctx in contexts:
        ctx.close()
    assert not errors, f"uncaught script errors: {errors}"
    assert not non_local(server.requests[start:]), f"requests to other hosts: {non_local(server.requests[start:])}"


# Where logging in leads each role (static/app.js homeFor; "none", an account not yet approved, to its password).
HOME = {
    "operator": "/map",
    "investigator": "/map",
    "auditor": "/audit",
    "admin": "/admin",
    "supervisor": "/approvals",
    "analyst": "/crimemap",
    "moderator": "/moderation",
    "none": "/password",
}


def log_in(page, name: str, password: str, role: str, home: str | None = None, lang: str = "en") -> None:
    """Log in through the login form as `name`, an account of `role`; the page must land on `home` (the role's
    home page unless said) and name the user and the role, the role in French where the page is (lang="fr")."""
    from playwright.sync_api import expect

    page.goto("/")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**" + (home or HOME[role]))
    expect(page.locator("#who")).to_have_text(f"{name} ({ROLE_FR[role] if lang == 'fr' else role})")


def wait_until_ready(page) -> None:
    """Wait until the page's script has set it up (static/app.js marks <body data-ready>): its forms' handlers
    are attached only after it has asked who is logged in, after the page's load event."""
    page.wait_for_selector("body[data-ready=true]", state="attached")


def log_in_as(page, accounts: dict[str, tuple[str, str]], role: str, lang: str = "en") -> None:
    """Log in as the module's account of `role` (accounts: role -> (name, password))."""
    log_in(page, *accounts[role], role, lang=lang)


def screenshot(page, name: str, full_page: bool = False) -> Path:
    """Save the page (1280x800, or the whole page 1280 wide) as docs/screenshots/<name>."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


def non_local(urls: list[str]) -> list[str]:
    """The URLs that went anywhere but this machine's test server."""
    return [
        u
        for u in urls
        if urlsplit(u).scheme not in ("data", "blob", "about") and urlsplit(u).hostname not in LOCAL_HOSTS
    ]


# --- language: what a page shows in French or English --------------------------------------------------------
# The role names a page shows beside the user's name (static/app.js roleName), for log_in in French.
ROLE_FR = {
    "operator": "opérateur",
    "investigator": "enquêteur",
    "auditor": "auditeur",
    "admin": "administrateur",
    "analyst": "analyste",
    "moderator": "modérateur",
    "supervisor": "superviseur",
}

# Every visible text node and every visible placeholder, title, aria-label and alt of the page.
_VISIBLE_TEXTS = """() => {
  const out = [];
  const shown = (el) => el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (!p || ["SCRIPT", "STYLE", "NOSCRIPT"].includes(p.tagName) || !shown(p)) continue;
    const text = n.textContent.replace(/\\s+/g, " ").trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll("[placeholder], [title], [aria-label], img[alt]"))
    if (shown(el) || el.tagName === "IMG")
      for (const a of ["placeholder", "title", "aria-label", "alt"]) {
        const v = (el.getAttribute(a) || "").replace(/\\s+/g, " ").trim();
        if (v) out.push(v);
      }
  out.push(document.title);
  return out;
}"""


@functools.cache
def _messages() -> tuple[dict[str, str], list[tuple[re.Pattern, str]]]:
    """msgid -> French for both catalogues; and patterns for messages with {fields} (a script fills them)."""
    from vigie.i18n import JS_DOMAIN, catalogue

    fr = {**catalogue("fr"), **catalogue("fr", JS_DOMAIN)}
    patterns = []
    for msgid, french in fr.items():
        parts = re.split(r"\{[^{}]*\}", msgid)
        if len(parts) > 1 and sum(len(re.sub(r"[^A-Za-z]", "", p)) for p in parts) >= 6:
            patterns.append((re.compile(".+?".join(re.escape(p) for p in parts), re.S), msgid))
    return fr, patterns


def wrong_language_texts(page, lang: str) -> list[str]:
    """The page's visible texts that are in the other language: in French, English messages that have a French
    translation (whole, or with their {fields} filled by a script); in English, French translations."""
    from playwright.sync_api import expect

    expect(page.locator("html")).to_have_attribute("lang", lang)
    fr, patterns = _messages()
    texts = page.evaluate(_VISIBLE_TEXTS)
    if lang == "fr":
        wrong = [t for t in texts if t in fr and fr[t] != t]
        wrong += [t for t in texts if t not in fr for p, msgid in patterns if fr[msgid] != msgid and p.fullmatch(t)]
    else:
        french = {v for k, v in fr.items() if v != k} - set(fr)
        wrong = [t for t in texts if t in french]
    return sorted(set(wrong))


# --- accessibility: axe-core (npm, node_modules/axe-core) run inside the page -----------------------------------
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[dict]:
    """The page's WCAG 2.1 A and AA violations found by axe-core, each {id, impact, help, nodes: [selector...]}.

    The script is read from the local file (never fetched) and evaluated through the debugging protocol:
    the pages' Content-Security-Policy (script-src 'self') rightly refuses an injected <script> tag
    (Playwright's add_script_tag), and the tests keep that policy as served. They skip where `make setup`
    has not installed the npm packages."""
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed at {AXE}: run `make setup` (npm install)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text("utf-8") + "\n;undefined")
    found = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').slice(0, 3).join(' '))}));
        }""",
        WCAG_AA,
    )
    return found


def assert_accessible(page, where: str = "") -> None:
    """Fail with axe-core's findings if the page, as it is now, breaks a WCAG 2.1 AA rule."""
    found = axe_violations(page)
    assert not found, f"axe-core finds WCAG 2.1 AA violations on {where or page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:8]) for v in found
    )
