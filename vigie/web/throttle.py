"""The login throttle: a progressive delay per client and per username, a cap on concurrent hashing, and
device cookies so that nobody can keep an account's owner out.

Why not lock accounts. A lock after N failures tells who exists (a real name gets "locked", an unknown
one "wrong password") and lets anyone keep `admin` out by failing five times every quarter of an hour.
Here every refusal is the same for every name, known or not: 401 "invalid username or password" for a
wrong password, an unknown name, a disabled account; 429 with Retry-After while a delay runs.

The delays. Each attempt counts, before its password is checked (so that a burst of parallel attempts
cannot all pass before the first failure is recorded), against two keys: the client (its address, an
IPv6 client by its /64, through the trusted-proxy setting of vigie.web.proxy) and the name tried (case
folded). A key's first `free` attempts pass at once; after that the k-th must wait 1, 2, 4 ... seconds
after the previous one, up to `max_delay`. A success gives the attempt back and clears the name's count.
A key is forgotten after `forget_after` without an attempt. Refused attempts (429) count nothing and
cost no hashing and no audit entry.

Device cookies (OWASP's "Slow down online guessing attacks with device cookies"). A successful login
gets a random device token; a later attempt for the same name that shows it is exempt from the name's
and the client's delays (its own failures are counted: five and the token is void). Guessing from many
addresses can then slow down the name for strangers, never for the browsers its owner already used.

Hashing. argon2id costs 64 MiB a verification; at most `hash_slots` run at once (a semaphore), so 50
parallel attempts use at most hash_slots x 64 MiB; a login that waits longer than `hash_wait` gets 503.

State is in memory, per app: a restart forgets delays and devices (the first `free` attempts per key
again), and at most `max_keys` keys per kind are kept (the oldest go first).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from vigie.citizen.abuse import sender_key
from vigie.errors import VigieError

DEVICE_COOKIE = "vigie_device"
DEVICE_TTL_S = 90 * 86400
DEVICE_MAX_FAILURES = 5


class TooManyAttempts(VigieError):
    """429: wait `retry_after` seconds; the same words whatever the name."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many login attempts: try again in {retry_after} seconds")
        self.retry_after = retry_after


class HashingBusy(VigieError):
    """503: every hashing slot stayed busy for `hash_wait` seconds."""

    status = 503
    retry_after = 1

    def __init__(self) -> None:
        super().__init__("the server is busy checking other logins: try again in a moment")


@dataclass
class _Key:
    attempts: int = 0
    last: float = 0.0  # when the last counted attempt was admitted
    not_before: float = 0.0  # no attempt is admitted before this


@dataclass(frozen=True)
class Ticket:
    """One admitted attempt: what to give back when it succeeds."""

    client: str
    name: str
    device: str | None  # a valid device token for this name, or None


class LoginThrottle:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        client_free: int = 5,
        name_free: int = 10,
        max_delay: float = 60.0,
        forget_after: float = 3600.0,
        hash_slots: int = 4,
        hash_wait: float = 30.0,
        max_keys: int = 100_000,
    ) -> None:
        self.clock = clock
        self.client_free, self.name_free = client_free, name_free
        self.max_delay, self.forget_after = max_delay, forget_after
        self.hash_slots, self.hash_wait, self.max_keys = hash_slots, hash_wait, max_keys
        self._lock = threading.Lock()
        self._clients: OrderedDict[str, _Key] = OrderedDict()
        self._names: OrderedDict[str, _Key] = OrderedDict()
        self._devices: OrderedDict[str, list] = OrderedDict()  # token -> [name, failures, expires]
        self._slots = threading.BoundedSemaphore(hash_slots)

    # --- the delays -------------------------------------------------------------------------------
    def delay(self, attempts: int, free: int) -> float:
        """Seconds the attempt after the `attempts`-th must wait."""
        return 0.0 if attempts < free else min(self.max_delay, 2.0 ** (attempts - free))

    def _key(self, table: OrderedDict, key: str, now: float) -> _Key:
        k = table.get(key)
        if k is None or now - k.last > self.forget_after:
            k = _Key()
        table[key] = k
        table.move_to_end(key)
        while len(table) > self.max_keys:
            table.popitem(last=False)
        return k

    def admit(self, client: str, username: str, device: str | None = None) -> Ticket:
        """Count the attempt, or TooManyAttempts (nothing counted) while a delay runs."""
        client, name = sender_key(client or "unknown"), _name(username)
        now = self.clock()
        with self._lock:
            known = self._devices.get(device) if device else None
            if known is not None and (known[0] != name or known[2] <= now):
                known = None
            if known is not None:  # the owner's browser: neither the name's nor the client's delay applies
                return Ticket(client, name, device)
            c, n = self._key(self._clients, client, now), self._key(self._names, name, now)
            wait = max(c.not_before, n.not_before) - now
            if wait > 0:
                raise TooManyAttempts(max(1, int(wait + 0.999)))
            for k, free in ((c, self.client_free), (n, self.name_free)):
                k.attempts += 1
                k.last = now
                k.not_before = now + self.delay(k.attempts, free)
            return Ticket(client, name, None)

    def failed(self, ticket: Ticket) -> None:
        if ticket.device is None:
            return  # counted when admitted
        with self._lock:
            known = self._devices.get(ticket.device)
            if known is not None:
                known[1] += 1
                if known[1] >= DEVICE_MAX_FAILURES:
                    del self._devices[ticket.device]

    def succeeded(self, ticket: Ticket) -> str:
        """Give the attempt back, clear the name's count; the device token to set (new or renewed)."""
        now = self.clock()
        with self._lock:
            if ticket.device is None:
                c = self._clients.get(ticket.client)
                if c is not None and c.attempts:
                    c.attempts -= 1
                    c.not_before = c.last + self.delay(c.attempts, self.client_free) if c.attempts else 0.0
                self._names.pop(ticket.name, None)
            token = ticket.device or secrets.token_urlsafe(32)
            self._devices[token] = [ticket.name, 0, now + DEVICE_TTL_S]
            self._devices.move_to_end(token)
            while len(self._devices) > self.max_keys:
                self._devices.popitem(last=False)
            return token

    # --- hashing ----------------------------------------------------------------------------------
    @contextmanager
    def hashing(self) -> Iterator[None]:
        """Hold one of `hash_slots` while a password is verified (HashingBusy after `hash_wait` seconds)."""
        if not self._slots.acquire(timeout=self.hash_wait):
            raise HashingBusy()
        try:
            yield
        finally:
            self._slots.release()


def _name(username: str) -> str:
    return (username or "").strip().casefold()[:128]
