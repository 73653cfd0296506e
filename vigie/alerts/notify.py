"""Sending alerts on: to webhooks (HTTP POST of JSON) and to an MQTT broker.

Each target gets the alert as JSON, without its snapshot (a picture does not
belong in a message bus; the snapshot stays behind the API's login). A
webhook with a secret is signed: header `X-Vigie-Signature: sha256=<HMAC of
the body>`, so the receiver can check the message came from Vigie. Failures
are retried with backoff, then counted and logged; they never stop the
analysis. `Notifier` runs the sending on its own thread so that a slow
receiver never slows the cameras.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from vigie.i18n import _

log = logging.getLogger(__name__)


class Target(Protocol):
    name: str

    def send(self, alert: dict) -> None:
        """Deliver one alert or raise."""


def alert_json(alert: dict) -> bytes:
    """The message body: the alert without binary fields, keys sorted (stable for signatures)."""
    clean = {k: v for k, v in alert.items() if not isinstance(v, (bytes, bytearray, memoryview))}
    return json.dumps(clean, sort_keys=True, default=str, ensure_ascii=False).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Webhook:
    url: str
    secret: str | None = None
    timeout_s: float = 5.0
    name: str = ""

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(_("webhook url {url} must start with http:// or https://", url=repr(self.url)))
        self.name = self.name or f"webhook {self.url}"

    def send(self, alert: dict) -> None:
        body = alert_json(alert)
        headers = {"Content-Type": "application/json", "User-Agent": "vigie-alerts"}
        if self.secret:
            headers["X-Vigie-Signature"] = signature(self.secret, body)
        r = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout_s)
        if r.status_code >= 300:
            raise RuntimeError(_("{url} answered HTTP {status_code}", url=self.url, status_code=r.status_code))


@dataclass
class Mqtt:
    host: str = "127.0.0.1"
    port: int = 1883
    topic_prefix: str = "vigie/alerts"
    username: str | None = None
    password: str | None = None
    qos: int = 1
    timeout_s: float = 5.0
    name: str = ""
    _client: object = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.name = self.name or f"mqtt {self.host}:{self.port}/{self.topic_prefix}"

    def _connected(self):
        import paho.mqtt.client as mqtt

        if self._client is None:
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"vigie-{id(self):x}")
            if self.username:
                client.username_pw_set(self.username, self.password)
            client.connect(self.host, self.port, keepalive=30)
            client.loop_start()
            self._client = client
        return self._client

    def send(self, alert: dict) -> None:
        topic = f"{self.topic_prefix}/{alert.get('camera_id', 'unknown')}"
        info = self._connected().publish(topic, alert_json(alert), qos=self.qos)
        info.wait_for_publish(timeout=self.timeout_s)
        if not info.is_published():
            self.close()  # reconnect on the next try
            raise RuntimeError(
                _(
                    "MQTT broker {host}:{port} did not acknowledge {topic} in {timeout_s} s",
                    host=self.host,
                    port=self.port,
                    topic=topic,
                    timeout_s=self.timeout_s,
                )
            )

    def close(self) -> None:
        if self._client is not None:
            self._client.loop_stop()
            self._client.disconnect()
            self._client = None


def deliver(target: Target, alert: dict, retries: int = 3, backoff_s: float = 0.5) -> bool:
    """Send with retries (backoff doubling); True when delivered, False after the last failure (logged)."""
    for attempt in range(retries + 1):
        try:
            target.send(alert)
            return True
        except Exception as exc:  # any failure of the receiver: retry, then report, never raise into the analysis
            if attempt == retries:
                log.error("alert %s not delivered to %s: %s", alert.get("id"), target.name, exc)
                return False
            time.sleep(backoff_s * 2**attempt)
    return False


class Notifier(threading.Thread):
    """Sends queued alerts to every target, in order, on its own thread."""

    def __init__(self, targets: list[Target], retries: int = 3, backoff_s: float = 0.5) -> None:
        super().__init__(name="vigie-notifier", daemon=True)
        self.targets, self.retries, self.backoff_s = targets, retries, backoff_s
        self.sent = 0
        self.failed = 0
        self._queue: queue.Queue = queue.Queue()

    def notify(self, alert: dict) -> None:
        self._queue.put(alert)

    def run(self) -> None:
        while True:
            alert = self._queue.get()
            if alert is None:
                return
            for target in self.targets:
                if deliver(target, alert, self.retries, self.backoff_s):
                    self.sent += 1
                else:
                    self.failed += 1
            self._queue.task_done()

    def stop(self, timeout: float = 30.0) -> None:
        """Send what is queued, then stop."""
        self._queue.put(None)
        if self.is_alive():
            self.join(timeout)
        for target in self.targets:
            close = getattr(target, "close", None)
            if close:
                close()
