"""What Vigie's interfaces (the `vigie` commands, the web app) are built from: one `Services`,
made from the environment by `Services.from_env()`, or from their own parts by the tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from vigie.config import default_site as builtin_site
from vigie.config import load_site
from vigie.files import data_dir
from vigie.store.sqlite import StoreBase, open_store


@dataclass
class Services:
    """What the app is built from: the store, the site file, an optional blurrer.

    `Services.from_env(...)` builds them as `vigie serve` and every `vigie` command run: the
    store $VIGIE_DATA (or $VIGIE_DATABASE_URL) names, the site file given; tests build them
    from their own parts. The fields after `blurrer` matter to the web app only."""

    store: StoreBase
    site: Any = None  # vigie.config.SiteConfig or None
    blurrer: Any = None  # vigie.privacy.blur.Blurrer, or anything with blur_crop() and blur()
    # Reached over HTTPS (TLS, or a server not on loopback): cookies are Secure and replies carry HSTS.
    # A request that arrives over HTTPS (directly or through a trusted proxy) gets both anyway.
    secure_cookie: bool = False
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks,
    # `vigie serve --forwarded-allow-ips`); from anyone else those headers are ignored (vigie.web.proxy).
    trusted_proxies: tuple[str, ...] = ()
    # The address residents and apps reach the server at (`vigie serve --public-url`): Open311's
    # discovery and media links name it, never the request's Host header.
    public_url: str = "http://127.0.0.1:8000"
    unblur_minutes: int = 60  # how long an investigator's unblurred view of a track stays open
    # How long one live alert feed (GET /api/alerts/stream) stays open before the server ends it; the
    # page's EventSource then reconnects with Last-Event-ID and misses nothing. A bounded feed never
    # holds a worker, a proxy connection or a test client for ever.
    alert_feed_s: float = 900.0
    blur_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_env(
        cls, site_path: str | None = None, blurrer: Any = None, default_site: bool = False, **settings
    ) -> Services:
        """The store of this environment ($VIGIE_DATA, or $VIGIE_DATABASE_URL), the site file at
        `site_path` (None: no site, or the built-in one-camera site where `default_site`), and
        the settings given; close() closes the store."""
        site = load_site(site_path) if site_path else (builtin_site() if default_site else None)
        store = open_store(data_dir())  # migrated and upgraded: an earlier version's folder is brought up to date
        return cls(store=store, site=site, blurrer=blurrer, **settings)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
