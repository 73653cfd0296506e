"""Alerts delivered to real local receivers: an HTTP server for webhooks, Debian's mosquitto for MQTT."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vigie.alerts.notify import Mqtt, Notifier, Webhook, deliver, signature

ALERT = {
    "id": 7,
    "rule": "fountain-night",
    "kind": "zone_intrusion",
    "camera_id": "nimes-esplanade-01",
    "start": "2026-11-26T22:10:00Z",
    "track_ids": [12],
    "details": {"seconds_inside": 4.5},
    "snapshot": b"\xff\xd8",
}


class Receiver(ThreadingHTTPServer):
    """Records every POST; answers the statuses queued in `answers` first, then 204."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(h):  # noqa: N805 - the handler's own self is the request
                body = h.rfile.read(int(h.headers["Content-Length"]))
                self.received.append((dict(h.headers), body))
                h.send_response(self.answers.pop(0) if self.answers else 204)
                h.end_headers()

            def log_message(h, *args):  # quiet
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.shutdown()


def test_webhook_posts_the_alert_signed_without_the_picture(receiver):
    assert deliver(Webhook(receiver.url, secret="s3cret"), ALERT, retries=0)
    [(headers, body)] = receiver.received
    sent = json.loads(body)
    assert sent["rule"] == "fountain-night" and sent["track_ids"] == [12] and "snapshot" not in sent
    assert headers["X-Vigie-Signature"] == signature("s3cret", body)
    assert headers["Content-Type"] == "application/json"


def test_webhook_failures_are_retried_then_counted_never_raised(receiver):
    receiver.answers = [500, 503]
    assert deliver(Webhook(receiver.url), ALERT, retries=2, backoff_s=0.01)
    assert len(receiver.received) == 3
    receiver.answers = [500] * 3
    assert not deliver(Webhook(receiver.url), ALERT, retries=2, backoff_s=0.01)
    dead = Webhook("http://127.0.0.1:9/nowhere", timeout_s=0.5)  # nothing listens on the discard port
    n = Notifier([dead, Webhook(receiver.url)], retries=1, backoff_s=0.01)
    n.start()
    receiver.answers = []
    n.notify(ALERT)
    n.stop()
    assert (n.sent, n.failed) == (1, 1)  # the dead receiver did not stop the other


def test_a_bad_webhook_url_is_refused():
    with pytest.raises(ValueError, match="must start with http"):
        Webhook("file:///etc/passwd")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mosquitto(tmp_path):
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if binary is None:
        pytest.skip("Debian's mosquitto is not installed: run `make setup` as root (apt-get install mosquitto)")
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "mosquitto did not start"
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(10)


def test_mqtt_publishes_each_alert_under_its_camera(mosquitto):
    import paho.mqtt.client as mqtt

    got, ready = [], threading.Event()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-subscriber")
    sub.on_connect = lambda c, u, f, rc, p: (c.subscribe("vigie/alerts/#", qos=1), ready.set())
    sub.on_message = lambda c, u, msg: got.append((msg.topic, json.loads(msg.payload)))
    sub.connect("127.0.0.1", mosquitto)
    sub.loop_start()
    try:
        assert ready.wait(5)
        time.sleep(0.2)  # the subscription is acknowledged
        target = Mqtt(port=mosquitto)
        assert deliver(target, ALERT, retries=0)
        assert deliver(target, {**ALERT, "id": 8, "camera_id": "nimes-arenes-01"}, retries=0)
        deadline = time.monotonic() + 5
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        target.close()
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert [(t, m["id"]) for t, m in got] == [
        ("vigie/alerts/nimes-esplanade-01", 7),
        ("vigie/alerts/nimes-arenes-01", 8),
    ]
    assert "snapshot" not in got[0][1]


def test_mqtt_to_a_broker_that_is_down_fails_cleanly():
    assert not deliver(Mqtt(port=_free_port(), timeout_s=0.5), ALERT, retries=1, backoff_s=0.01)
