"""The load test's own Redis: a redis-server on a free loopback port, configured as README's
Deploy section says (a memory limit, least-recently-used eviction, no persistence), that the
test can stop mid-run and start again; and what it holds (INFO memory, DBSIZE, the keys).

Never the machine's own Redis: the test starts this one, and only this one is stopped.
"""

import shutil
import signal
import subprocess
import time
from collections import Counter

import redis
from common import RESULTS_DIR, BenchError, Managed, free_port, say

# README, Deploy: "maxmemory ... maxmemory-policy allkeys-lru, never noeviction".
POLICY = "allkeys-lru"


class RedisServer(Managed):
    """A context manager: started on entry, stopped on every exit path."""

    def __init__(self, maxmemory_mb: int, name: str = "loadtest"):
        self.maxmemory_mb = maxmemory_mb
        self.port = free_port()
        self.log_path = RESULTS_DIR / f"redis-{name}.log"
        self.process: subprocess.Popen | None = None
        self.stops = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise BenchError("no redis-server: apt-get install redis-server (.ci/run does)")
        RESULTS_DIR.mkdir(exist_ok=True)
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",  # a cache: nothing to persist, nothing written on stop
                "--appendonly",
                "no",
                "--dir",
                str(RESULTS_DIR),
                "--maxmemory",
                f"{self.maxmemory_mb}mb",
                "--maxmemory-policy",
                POLICY,
            ],  # fmt: skip
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the harness, which stops it in order
        )
        log.close()
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                raise BenchError(f"redis-server exited at start-up (log: {self.log_path})")
            try:
                if self.client().ping():
                    break
            except redis.exceptions.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"redis-server did not answer in 20 s (log: {self.log_path})")
            time.sleep(0.1)
        say(f"== redis-server on 127.0.0.1:{self.port} ({self.maxmemory_mb} MB, {POLICY})")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        self.stops += 1

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def stats(self) -> dict:
        """What the cache holds now: bytes used (and the peak), keys, evictions, the limit."""
        conn = self.client()
        memory = conn.info("memory")
        stats = conn.info("stats")
        return {
            "used_memory": memory["used_memory"],
            "used_memory_peak": memory["used_memory_peak"],
            "maxmemory": memory["maxmemory"],
            "policy": memory.get("maxmemory_policy"),
            "dbsize": conn.dbsize(),
            "evicted_keys": stats["evicted_keys"],
        }

    def keys(self) -> set[str]:
        return {key.decode() for key in self.client().scan_iter(count=1000)}


def page_keys_by_version(keys: set[str]) -> Counter:
    """How many cached pages and answers each content version holds.

    Django stores evidence.cache's keys as ":<key version>:<kind>:<release>:<content
    version>:<digest>" (kind: page, fragment or json); other keys (click de-duplication,
    health checks, retirement marks) are not pages and not counted."""
    versions: Counter = Counter()
    for key in keys:
        parts = key.split(":")
        if len(parts) == 6 and parts[2] in ("page", "fragment", "json"):
            versions[parts[4]] += 1
    return versions
