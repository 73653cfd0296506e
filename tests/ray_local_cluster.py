"""A real two-node Ray cluster on loopback for the scale-out tests: `ray start --head` plus one
worker node (`ray start --address ... --block`), each its own process group, so that a test can
kill the worker node whole (its raylet and every worker process on it) as a machine that
loses power would, and see what the run makes of it.

Node deaths are noticed by the head's health checks; the defaults (a check every 3 s, five
misses) are shortened here so that a test waits seconds, not half a minute.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
FAST_FAILURE_DETECTION = {
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_failure_threshold": "4",
    "RAY_health_check_timeout_ms": "500",
    "RAY_AUTH_MODE": "disabled",
}
# Ray replaces 127.0.0.1 and localhost, as a node's or the head's address, by the machine's network
# address (services.resolve_ip_for_localhost), and would talk to itself over the network interface.
# Other loopback addresses are left as they are: the head is 127.0.0.2, the worker node 127.0.0.3,
# so every node, driver and worker talks over loopback only.
HEAD_HOST, WORKER_HOST = "127.0.0.2", "127.0.0.3"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    def __init__(self, tmp: Path, head_cpus: int = 1, worker_cpus: int = 1) -> None:
        self.port = free_port()
        self.address = f"{HEAD_HOST}:{self.port}"
        self.tmp = tmp
        # without Ray's one-machine switch, which a worker node refuses (vigie.scale.ray_cluster sets it for a local Ray)
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"},
            **FAST_FAILURE_DETECTION,
        }
        self.head_cpus, self.worker_cpus = head_cpus, worker_cpus
        self.worker: subprocess.Popen | None = None

    def start(self) -> "LocalCluster":
        subprocess.run(
            [
                RAY,
                "start",
                "--head",
                f"--node-ip-address={HEAD_HOST}",
                f"--port={self.port}",
                f"--num-cpus={self.head_cpus}",
                "--include-dashboard=false",
                "--disable-usage-stats",
            ],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.start_worker()
        return self

    def start_worker(self) -> None:
        log = open(self.tmp / "ray-worker.log", "ab")
        self.worker = subprocess.Popen(
            [
                RAY,
                "start",
                f"--address={self.address}",
                f"--node-ip-address={WORKER_HOST}",
                f"--num-cpus={self.worker_cpus}",
                "--disable-usage-stats",
                "--block",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_nodes(2)

    def alive_nodes(self) -> int:
        import ray

        return sum(1 for n in ray.nodes() if n["Alive"])

    def wait_nodes(self, n: int, timeout: float = 60.0) -> None:
        import ray

        if not ray.is_initialized():
            ray.init(address=self.address, log_to_driver=False)
        end = time.monotonic() + timeout
        while self.alive_nodes() != n:
            if time.monotonic() > end:
                raise TimeoutError(f"the local Ray cluster has {self.alive_nodes()} live nodes, not {n}")
            time.sleep(0.5)

    def kill_worker(self) -> None:
        """SIGKILL to the worker node's whole process group: raylet, object store and workers at once."""
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(10)

    def stop(self) -> None:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGKILL)
        subprocess.run([RAY, "stop", "--force"], env=self.env, capture_output=True, timeout=120)
