"""The browser fixtures of every module here (tests/web/browser_support.py): `browser`, Debian's chromium under
Playwright, and `new_page`, fresh pages over the module's own `server` fixture."""

from browser_support import browser, new_page  # noqa: F401 (fixtures)
