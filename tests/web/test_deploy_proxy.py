"""Issue 19, finding 9 (and 11 behind a proxy): Vigie over HTTPS, served by uvicorn itself (`vigie serve
--certfile --keyfile`) and behind Debian's nginx with the very configuration docs/DEPLOY.md gives
(examples/deploy/nginx-vigie.conf), with a certificate the test makes. A browser logs in through the proxy:
the session cookie is Secure, replies carry HSTS, the audit log names the browser's address (believed
from nginx, the trusted proxy, and from nobody else), and plain HTTP is redirected to HTTPS.

`make setup` installs Debian's nginx-light (as root); the proxy tests skip, saying so, where it is missing."""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from browser_support import PAGE_TIMEOUT_MS, VIEWPORT
from builders import REPO_ROOT, english_site

from vigie.accounts import users
from vigie.audit.log import query as audit_query
from vigie.cli import serve
from vigie.config import CameraConfig
from vigie.services import Services
from vigie.store.sqlite import SQLiteStore
from vigie.web.app import create_app

NGINX = Path("/usr/sbin/nginx")
CONF = REPO_ROOT / "examples" / "deploy" / "nginx-vigie.conf"
PROXY_ADDRESS = "127.0.0.3"  # nginx talks to Vigie from here: the only address Vigie trusts
NAME, PASSWORD = "aud", "auditor-pass-1234"
SITE = english_site(
    name="Proxy test",
    cameras=[CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36, commune="Nimes", purpose="safety")],
)
pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, made now."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigie test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, host: str = "127.0.0.1", proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            assert proc is None or proc.poll() is None, "nginx exited"
            assert time.monotonic() < deadline, f"nothing listens on {host}:{port}"
            time.sleep(0.05)


@contextmanager
def vigie_served(app, **flags):
    """The app served by uvicorn as `vigie serve` configures it (serve.transport), on loopback."""
    import uvicorn

    port = free_port()
    flags = {"host": "127.0.0.1", "port": port, **flags}
    ns = argparse.Namespace(
        **{
            "secure_cookie": False,
            "certfile": None,
            "keyfile": None,
            "insecure": False,
            "forwarded_allow_ips": "",
            "public_url": None,
            **flags,
        }
    )
    settings, server = serve.transport(ns)
    srv = uvicorn.Server(uvicorn.Config(app(settings), lifespan="off", **server))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not srv.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield port, settings
    finally:
        srv.should_exit = True
        thread.join(15)


@pytest.fixture
def store(tmp_path):
    with SQLiteStore(tmp_path / "data") as s:
        s.upsert_cameras(SITE.cameras)
        users.create_user(s, NAME, "auditor", PASSWORD)
        yield s


def app_for(store):
    return lambda settings: create_app(Services(store=store, site=SITE, **settings))


def last_client(store, action: str) -> str:
    entry = next(e for e in audit_query(store, action=action, limit=1000)[::-1] if e.action == action)
    return json.loads(entry.details)["client"]


# --- uvicorn itself over TLS -------------------------------------------------------------------------------------
def test_vigie_serve_speaks_https_with_secure_cookies_and_hsts(tmp_path, store):
    cert, key = self_signed(tmp_path)
    with vigie_served(app_for(store), certfile=str(cert), keyfile=str(key)) as (port, settings):
        assert settings["secure_cookie"] and settings["public_url"] == f"https://127.0.0.1:{port}"
        with httpx.Client(
            base_url=f"https://127.0.0.1:{port}", verify=ssl.create_default_context(cafile=str(cert)), timeout=20
        ) as c:
            r = c.post("/api/login", json={"username": NAME, "password": PASSWORD})
            assert r.status_code == 200, r.text
            assert all("Secure" in v for v in r.headers.get_list("set-cookie"))
            assert r.headers["strict-transport-security"].startswith("max-age=")
            assert c.get("/api/me").json()["username"] == NAME
            # A forged X-Forwarded-For from a peer that is no proxy of ours is not believed.
            c.post(
                "/api/login",
                json={"username": NAME, "password": "wrong password!!"},
                headers={"X-Forwarded-For": "203.0.113.7"},
            )
        assert last_client(store, "login_failed") == "127.0.0.1"
        with pytest.raises(httpx.HTTPError):  # plain HTTP on the TLS port is no way in
            httpx.get(f"http://127.0.0.1:{port}/api/me", timeout=5).raise_for_status()


def test_a_forged_forwarded_for_through_vigie_serve_does_not_reset_the_report_limit(store):
    """Finding 11's attack as it was: `vigie serve` ran uvicorn with its default proxy handling, which
    believes X-Forwarded-For from 127.0.0.1, so a sender on loopback (or behind a proxy that passes the
    header on) made each report come from a new address. Served as `vigie serve` serves now, the header
    of a peer that is not --forwarded-allow-ips changes nothing."""
    with vigie_served(app_for(store)) as (port, _settings):
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as c:
            statuses = [
                c.post(
                    "/open311/v2/requests.json",
                    data={
                        "service_code": "streetlight",
                        "lat": "43.8367",
                        "long": "4.3601",
                        "description": f"Street light number {i} is out on the quai de la Fontaine.",
                    },
                    headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
                ).status_code
                for i in range(7)
            ]
    assert statuses == [200] * 5 + [429, 429]


# --- behind nginx --------------------------------------------------------------------------------------------
@pytest.fixture
def nginx(tmp_path, store):
    """Vigie on loopback behind nginx with examples/deploy/nginx-vigie.conf; yields (https URL, http URL, store)."""
    if not NGINX.exists():
        pytest.skip(
            f"Debian's nginx is not installed at {NGINX}: run `make setup` as root (apt-get install nginx-light)"
        )
    cert, key = self_signed(tmp_path)
    https_port, http_port = free_port(), free_port()
    public = f"https://127.0.0.1:{https_port}"
    with vigie_served(app_for(store), forwarded_allow_ips=PROXY_ADDRESS, public_url=public) as (vport, _settings):
        site = CONF.read_text()
        for old, new in (
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
            ("listen [::]:443 ssl http2;", ""),
            ("listen 80;", f"listen 127.0.0.1:{http_port};"),
            ("listen [::]:80;", ""),
            ("/etc/ssl/vigie/fullchain.pem", str(cert)),
            ("/etc/ssl/vigie/privkey.pem", str(key)),
            (
                "proxy_pass http://127.0.0.1:8000;",
                f"proxy_pass http://127.0.0.1:{vport};\n        proxy_bind {PROXY_ADDRESS};",
            ),
        ):
            assert old in site, f"{CONF} no longer has {old!r}: update this test with the documented setup"
            site = site.replace(old, new)
        # Only this test's wrapping differs from a Debian install: its own prefix, logs and no daemon.
        (tmp_path / "vigie.conf").write_text(site)
        temp = "\n".join(
            f"    {k}_temp_path {tmp_path}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (tmp_path / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"worker_processes 1;\ndaemon off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
            f"events {{ worker_connections 64; }}\nhttp {{\n    access_log {tmp_path}/access.log;\n{temp}\n"
            f"    include {tmp_path}/vigie.conf;\n}}\n"
        )
        proc = subprocess.Popen(
            [str(NGINX), "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(https_port, proc=proc)
            wait_for(http_port, proc=proc)
            yield public, f"http://127.0.0.1:{http_port}", store
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            log = tmp_path / "error.log"
            if log.exists() and "[emerg]" in log.read_text():
                pytest.fail(f"nginx: {log.read_text()[-2000:]}")


def test_through_nginx_the_client_address_is_the_real_one_and_http_redirects(nginx):
    public, plain, store = nginx
    with httpx.Client(base_url=public, verify=False, timeout=20) as c:
        # The sender's own X-Forwarded-For is kept in front; nginx appends the address it saw, which Vigie takes.
        r = c.post(
            "/api/login",
            json={"username": NAME, "password": "wrong password!!"},
            headers={"X-Forwarded-For": "203.0.113.50"},
        )
        assert r.status_code == 401 and r.headers["strict-transport-security"].startswith("max-age=")
        assert last_client(store, "login_failed") == "127.0.0.1"
        discovery = c.get("/open311/v2/discovery.json", headers={"Host": "evil.example"}).json()
        assert discovery["endpoints"][0]["url"] == f"{public}/open311/v2"
    r = httpx.get(f"{plain}/login", timeout=20)
    assert r.status_code == 301 and r.headers["location"].startswith("https://")


@pytest.mark.browser
def test_a_browser_logs_in_through_the_proxy_over_https(nginx, browser):  # noqa: F811
    from playwright.sync_api import expect

    public, _plain, store = nginx
    ctx = browser.new_context(viewport=VIEWPORT, base_url=public, ignore_https_errors=True, locale="en-GB")
    try:
        page = ctx.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        headers: dict[str, dict] = {}
        page.on("response", lambda resp: headers.setdefault(resp.url.split("?")[0], resp.headers))
        page.goto("/")
        page.fill("#username", NAME)
        page.fill("#password", PASSWORD)
        page.click("#login-form button[type=submit]")  # a POST the same-origin check lets through
        page.wait_for_url("**/audit")
        expect(page.locator("#who")).to_have_text(f"{NAME} (auditor)")
        # The audit page's filter offers every action, the login among them.
        expect(page.locator("#f-action option[value=login_failed]")).to_have_count(1)
        expect(page.locator("#f-action option[value=report_moderate]")).to_have_count(1)
        session = next(c for c in ctx.cookies() if c["name"] == "vigie_session")
        assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Strict"
        api = headers[f"{public}/api/audit"]
        assert api["cache-control"] == "no-store" and api["x-content-type-options"] == "nosniff"
        assert api["strict-transport-security"].startswith("max-age=")
        assert last_client(store, "login") == "127.0.0.1"
        page.click("#logout")  # another POST through the proxy
        expect(page.locator("#login-form")).to_be_visible()
        # the session is gone from the store too
        with store.read() as conn:
            assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
        assert not errors, errors
    finally:
        ctx.close()


def test_the_documented_config_is_the_tested_one():
    doc = (REPO_ROOT / "docs" / "DEPLOY.md").read_text()
    assert "examples/deploy/nginx-vigie.conf" in doc and "--forwarded-allow-ips 127.0.0.1" in doc
