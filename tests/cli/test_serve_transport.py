"""`vigie serve`'s transport (issue 19, finding 9): HTTPS with --certfile/--keyfile, Secure cookies and HSTS
off loopback, plain HTTP refused off loopback without --insecure, and uvicorn never trusting X-Forwarded-*
by itself (finding 11). The servers themselves run in tests/web/test_deploy_proxy.py."""

from __future__ import annotations

import argparse

import pytest

from vigie.cli import serve
from vigie.errors import VigieError


def args(**kw) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve.register(parser.add_subparsers())
    ns = parser.parse_args(["serve"])
    for k, v in kw.items():
        setattr(ns, k, v)
    return ns


@pytest.fixture
def pem(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("not read by this test")
    key.write_text("not read by this test")
    return str(cert), str(key)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "vigie.example.fr"])
def test_plain_http_off_loopback_is_refused_without_insecure(host):
    with pytest.raises(VigieError, match="refusing to serve plain HTTP"):
        serve.transport(args(host=host))
    settings, server = serve.transport(args(host=host, insecure=True))
    assert settings["secure_cookie"] is True  # Secure cookies and HSTS whenever not on loopback
    assert server["ssl_certfile"] is None


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_serves_plain_http_with_ordinary_cookies(host):
    settings, server = serve.transport(args(host=host))
    assert settings["secure_cookie"] is False and settings["trusted_proxies"] == ()
    assert server["proxy_headers"] is False  # uvicorn's default trusts X-Forwarded-For from 127.0.0.1


def test_tls_needs_both_files_and_makes_everything_secure(pem):
    cert, key = pem
    with pytest.raises(VigieError, match="both --certfile and --keyfile"):
        serve.transport(args(certfile=cert))
    with pytest.raises(VigieError, match="does not exist"):
        serve.transport(args(certfile=cert, keyfile=key + ".missing"))
    settings, server = serve.transport(args(host="0.0.0.0", port=8443, certfile=cert, keyfile=key))
    assert settings["secure_cookie"] is True
    assert server["ssl_certfile"] == cert and server["ssl_keyfile"] == key
    assert settings["public_url"].startswith("https://") and settings["public_url"].endswith(":8443")


def test_public_url_and_proxies():
    settings, _ = serve.transport(
        args(public_url="https://vigie.nimes.example/", forwarded_allow_ips="127.0.0.1, 10.1.0.0/16")
    )
    assert settings["public_url"] == "https://vigie.nimes.example"
    assert settings["secure_cookie"] is True  # reached over HTTPS through the proxy
    assert settings["trusted_proxies"] == ("127.0.0.1/32", "10.1.0.0/16")
    assert serve.transport(args())[0]["public_url"] == "http://127.0.0.1:8000"
    with pytest.raises(VigieError, match="any sender"):
        serve.transport(args(forwarded_allow_ips="*"))
    with pytest.raises(VigieError, match="not an http"):
        serve.transport(args(public_url="vigie.example"))
