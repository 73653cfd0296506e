"""The control-room web UI (`vigie.web.ui.mount_ui`): pages served, every asset local, data never inserted as markup."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from vigie.accounts import users
from vigie.services import Services
from vigie.store.sqlite import SQLiteStore
from vigie.web import ui
from vigie.web.app import create_app
from vigie.web.ui import STATIC, mount_ui

PAGES = [
    "/",
    "/map",
    "/search",
    "/track/1",
    "/trail/1",
    "/alerts",
    "/dashboard",
    "/audit",
    "/admin",
    "/approvals",
    "/password",
    "/enrol",
    "/case/PV-2026-0142",
]
OURS = [
    "/static/app.js",
    "/static/app.css",
    "/static/office.js",
    "/static/alerts.js",
    "/static/accounts.js",
    "/static/cases.js",
]
OURS = [
    "/static/app.js",
    "/static/app.css",
    "/static/office.js",
    "/static/alerts.js",
    "/static/accounts.js",
    "/static/a11y.js",
    "/static/forms.js",
    "/static/places.js",
    "/static/dashboard.js",
]


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    store = SQLiteStore(tmp_path)
    services = Services(store=store)
    app = create_app(services)
    if not any(getattr(r, "path", None) == "/map" for r in app.routes):  # until create_app mounts it itself
        mount_ui(app, services)
    yield app
    store.close()


@pytest.fixture
def c(app):
    return TestClient(app)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_html_with_local_assets_only(c, path):
    r = c.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    body = r.text
    assert body.lstrip().lower().startswith("<!doctype html>")
    assert "http://" not in body and "https://" not in body
    refs = re.findall(r'(?:src|href)="([^"]*)"', body)
    assets = [u for u in refs if u.endswith((".js", ".css", ".png", ".svg"))]
    assert assets and all(u.startswith("/static/") for u in assets), assets
    assert "/static/app.js" in assets and "/static/app.css" in assets
    assert all(not u.startswith("//") and ":" not in u for u in refs), refs  # no scheme, no protocol-relative URL
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_map_pages_load_leaflet_locally(c):
    for path in ("/map", "/trail/1"):
        body = c.get(path).text
        assert 'src="/static/leaflet/leaflet.js"' in body and 'href="/static/leaflet/leaflet.css"' in body


@pytest.mark.parametrize("path", OURS)
def test_our_static_files_are_served_without_external_urls(c, path):
    r = c.get(path)
    assert r.status_code == 200 and len(r.text) > 100
    assert "http://" not in r.text and "https://" not in r.text
    assert "url(" not in r.text or all(
        u.startswith(("/static/", "data:")) for u in re.findall(r"url\(([^)]*)\)", r.text)
    )


def test_leaflet_is_served_from_node_modules(c):
    if ui._leaflet_dir() is None:
        pytest.skip("leaflet not installed (npm install leaflet@1.9.4)")
    r = c.get("/static/leaflet/leaflet.js")
    assert r.status_code == 200 and "leaflet" in r.text.lower()[:2000]
    assert c.get("/static/leaflet/leaflet.css").status_code == 200
    assert c.get("/static/leaflet/images/marker-icon.png").status_code == 200


def test_without_leaflet_the_pages_still_load(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    monkeypatch.setattr(ui, "_leaflet_dir", lambda: None)
    store = SQLiteStore(tmp_path)
    try:
        from fastapi import FastAPI

        app = FastAPI()
        mount_ui(app, Services(store=store))
        c = TestClient(app)
        assert c.get("/map").status_code == 200
        assert c.get("/static/app.js").status_code == 200
        assert c.get("/static/leaflet/leaflet.js").status_code == 404
    finally:
        store.close()
    assert "not installed" in (STATIC / "app.js").read_text()  # the map says so


def test_tile_url_hook_is_null_by_default():
    js = (STATIC / "app.js").read_text()
    assert re.search(r"tileUrl:\s*null", js)


def test_no_file_of_ours_names_an_external_url():
    for f in STATIC.rglob("*"):
        if f.is_file() and f.suffix in (".js", ".css", ".html"):
            text = f.read_text()
            assert "http://" not in text and "https://" not in text, f


def test_scripts_never_insert_markup():
    for f in STATIC.rglob("*.js"):
        js = f.read_text()
        assert not re.search(r"\.(innerHTML|outerHTML)\s*\+?=", js), f
        assert "insertAdjacentHTML" not in js and "document.write" not in js, f
        assert not re.search(r"html:\s*[`'\"]", js), f  # Leaflet divIcon/popup html gets an element, not a string


@pytest.mark.parametrize(
    "path", ["/track/abc", "/trail/abc", "/track/0", "/track/1.5", "/trail/99999999999999999999999"]
)
def test_a_malformed_track_id_is_refused_not_a_crash(c, path):
    assert c.get(path).status_code in (404, 422)


def test_unknown_static_file_is_404(c):
    assert c.get("/static/nope.js").status_code == 404
    assert c.get("/static/../app.py").status_code == 404


def test_pages_allow_images_from_the_site_files_tile_server_only():
    from vigie.web.ui import content_security_policy

    assert "img-src 'self' data:;" in content_security_policy(None)
    assert "img-src 'self' data:;" in content_security_policy("/tiles/{z}/{x}/{y}.png")  # local tiles: nothing to add
    csp = content_security_policy("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://*.tile.example.org;" in csp and "script-src 'self';" in csp


def test_the_sites_own_tiles_are_served_locally(tmp_path, monkeypatch):
    from vigie.config import load_site

    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "data"))
    (tmp_path / "tiles" / "3" / "4").mkdir(parents=True)
    (tmp_path / "tiles" / "3" / "4" / "5.png").write_bytes(b"\x89PNG tile")
    (tmp_path / "site.yaml").write_text(
        "name: t\nmap: {tile_url: '/tiles/{z}/{x}/{y}.png', tile_dir: tiles, attribution: 'OSM'}\n"
        "cameras: [{id: c, name: c, lat: 43.8, lon: 4.3}]\n"
    )
    site = load_site(tmp_path / "site.yaml")
    store = SQLiteStore(tmp_path / "data")
    try:
        c = TestClient(create_app(Services(store=store, site=site)))
        assert c.get("/tiles/3/4/5.png").content == b"\x89PNG tile"
        assert c.get("/tiles/../site.yaml").status_code == 404
        users.create_user(store, "op", "operator", "correct horse battery")
        c.post("/api/login", json={"username": "op", "password": "correct horse battery"})
        assert c.get("/api/map").json() == {"tile_url": "/tiles/{z}/{x}/{y}.png", "attribution": "OSM", "max_zoom": 19}
    finally:
        store.close()


def test_the_scripts_catalogue_is_read_again_only_when_its_file_changes(tmp_path):
    import os

    from vigie.web.language import scripts_catalogue

    (tmp_path / "i18n").mkdir()
    source = tmp_path / "i18n" / "fr.json"
    assert scripts_catalogue("fr", tmp_path) == 'window.VIGIE_I18N = {"lang": "fr", "messages": {}};\n'  # no file
    source.write_text('{"Log in": "Se connecter"}', "utf-8")
    first = scripts_catalogue("fr", tmp_path)
    assert '"Log in": "Se connecter"' in first
    assert scripts_catalogue("fr", tmp_path) is first  # unchanged: the script made at the first request
    source.write_text('{"Log in": "Connexion"}', "utf-8")
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # changed, whatever the clock's grain
    assert '"Log in": "Connexion"' in scripts_catalogue("fr", tmp_path)
